"""The spiking neuron-astrocyte associative memory of Gordleeva et al. (2021).

`_units.py`: the Izhikevich neuron and the Li-Rinzel astrocyte; `_network.py`: the 40 x 40 / 13 x 13
network, its coupling rules and the fixed-step simulation (jit, vmap over trials); `_protocol.py`:
digit images, noise, the training/test protocol, balanced accuracy and batched trials;
`_curves.py`: the paper's experiments as computations (their tables and figures: `nam gordleeva`,
`nam.experiments.gordleeva`).
"""

from ._curves import run_experiments as run_experiments
from ._curves import without_astrocytes as without_astrocytes
from ._network import MAX_DT_MS as MAX_DT_MS
from ._network import GordleevaNetwork as GordleevaNetwork
from ._network import SpikingRun as SpikingRun
from ._network import Stimulus as Stimulus
from ._network import simulate as simulate
from ._network import simulate_batch as simulate_batch
from ._network import stack_stimuli as stack_stimuli
from ._protocol import Protocol as Protocol
from ._protocol import add_noise as add_noise
from ._protocol import balanced_accuracy as balanced_accuracy
from ._protocol import example_run as example_run
from ._protocol import load_digit as load_digit
from ._protocol import make_stimulus as make_stimulus
from ._protocol import run_trials as run_trials
from ._units import Izhikevich as Izhikevich
from ._units import LiRinzel as LiRinzel
