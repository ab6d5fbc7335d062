"""python -m bench: the CPU table (bench/run.py); --peers: the table with jax.jit and
torch.compile and the measured floors (bench/peers.py)."""
import sys

if "--peers" in sys.argv[1:]:
    from bench.peers import main
    main([a for a in sys.argv[1:] if a != "--peers"])
else:
    from bench.run import main
    main()
