"""The spiking neuron-astrocyte associative memory of Gordleeva et al. (2021).

`_units.py`: the Izhikevich neuron and the Li-Rinzel astrocyte; `_network.py`: the 40 x 40 / 13 x 13
network, its coupling rules and the fixed-step simulation (jit, vmap over trials); `_protocol.py`:
digit images, noise, the training/test protocol, balanced accuracy and batched trials;
`_curves.py`: the paper's experiments as computations (their tables and figures: `nam gordleeva`,
`nam.experiments.gordleeva`).
"""

from ._network import (
    MAX_DT_MS as MAX_DT_MS,
    GordleevaNetwork as GordleevaNetwork,
    SpikingRun as SpikingRun,
    Stimulus as Stimulus,
    simulate as simulate,
    simulate_batch as simulate_batch,
    stack_stimuli as stack_stimuli,
)
from ._protocol import (
    Protocol as Protocol,
    add_noise as add_noise,
    balanced_accuracy as balanced_accuracy,
    example_run as example_run,
    load_digit as load_digit,
    make_stimulus as make_stimulus,
    run_trials as run_trials,
)
from ._units import Izhikevich as Izhikevich, LiRinzel as LiRinzel
from ._curves import run_experiments as run_experiments, without_astrocytes as without_astrocytes
