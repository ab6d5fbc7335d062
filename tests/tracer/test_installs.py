"""SharedInstall (tracer/installs.py): one installation for nested and concurrent users."""
import threading

from tracejit.tracer.installs import SharedInstall


def test_installed_by_the_first_user_and_restored_by_the_last():
    events = []
    shared = SharedInstall(lambda: events.append("install"), lambda: events.append("restore"))
    with shared.active():
        with shared.active():
            assert events == ["install"]
        assert events == ["install"]
    assert events == ["install", "restore"]
    with shared.active():
        pass
    assert events == ["install", "restore", "install", "restore"]


def test_concurrent_users_share_one_installation():
    state = {"installed": 0, "max": 0}

    def install():
        state["installed"] += 1
        state["max"] = max(state["max"], state["installed"])

    def restore():
        state["installed"] -= 1
    shared = SharedInstall(install, restore)
    barrier = threading.Barrier(4)

    def user():
        with shared.active():
            barrier.wait()
    threads = [threading.Thread(target=user) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state == {"installed": 0, "max": 1}
