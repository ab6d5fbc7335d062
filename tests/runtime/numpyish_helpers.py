"""A user module whose name starts like NumPy's (it is the user's code all the same)."""
import numpy as np


def scale_for(x):
    return {16: 1.0, 17: 2.0}.get(x.shape[0], 3.0) * np.ones(1)
