"""Continuous (diffrax) and binary retrieval dynamics. A namespace of `nam` (`nam.dynamics.<name>`); its
names are also flat in `nam`."""

from ._binary import BinaryRetrieval as BinaryRetrieval, retrieve_binary as retrieve_binary
from ._config import SolverConfig as SolverConfig
from ._retrieve import Retrieval as Retrieval, retrieve as retrieve, retrieve_batch as retrieve_batch, settle as settle
from ._stability import (
    BlockSpectrum as BlockSpectrum,
    JacobianSpectrum as JacobianSpectrum,
    jacobian_spectrum as jacobian_spectrum,
)
from ._status import Status as Status, status_ok as status_ok
from ._trajectory import euler_trajectory as euler_trajectory
