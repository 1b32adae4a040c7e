"""Continuous (diffrax) and binary retrieval dynamics. A namespace of `nam` (`nam.dynamics.<name>`); its
names are also flat in `nam`."""

from ._binary import BinaryRetrieval as BinaryRetrieval
from ._binary import retrieve_binary as retrieve_binary
from ._config import SolverConfig as SolverConfig
from ._retrieve import Retrieval as Retrieval
from ._retrieve import retrieve as retrieve
from ._retrieve import retrieve_batch as retrieve_batch
from ._retrieve import settle as settle
from ._stability import BlockSpectrum as BlockSpectrum
from ._stability import JacobianSpectrum as JacobianSpectrum
from ._stability import jacobian_spectrum as jacobian_spectrum
from ._status import Status as Status
from ._status import status_ok as status_ok
from ._trajectory import euler_trajectory as euler_trajectory
