"""The experiments behind the `nam` commands: one module each, every one a final subclass of
`AbstractExperiment` (`_base.py`), a frozen dataclass of declared options (`option`) with `run`, `format`
and `write`. The CLI (`nam._cli`) is generated from them; Python code makes one directly and runs it:

    from nam.experiments import Demo
    experiment = Demo(n=64, k=4)
    result = experiment.run()
    print(experiment.format(result)); experiment.write(result, "my_demo")

The models, losses, training loops and simulations they drive live in the library subpackages (`nam.models`,
`nam.dynamics`, `nam.sweep`, `nam.learning`, `nam.spiking`, `nam.astrosnn`); the output folders, tables,
resumable results files and figures of each command live here.
"""

from ._base import AbstractExperiment as AbstractExperiment
from ._base import Option as Option
from ._base import option as option
from .astrosnn_generate import AstroSNNGenerate as AstroSNNGenerate
from .astrosnn_lm import AstroSNNLM as AstroSNNLM
from .astrosnn_retention import AstroSNNRetention as AstroSNNRetention
from .demo import Demo as Demo
from .gordleeva import Gordleeva as Gordleeva
from .learn_digits import LearnDigits as LearnDigits
from .learn_gain import LearnGain as LearnGain
from .learn_inpainting import LearnInpainting as LearnInpainting
from .sweep import Sweep as Sweep

# every command, in the order of `nam --help`
EXPERIMENTS: tuple[type[AbstractExperiment], ...] = (
    Sweep,
    Demo,
    Gordleeva,
    LearnDigits,
    LearnInpainting,
    LearnGain,
    AstroSNNRetention,
    AstroSNNLM,
    AstroSNNGenerate,
)
# the commands that group several experiments (`nam learn digits`), and their one-line help
GROUPS = {
    "learn": "learn astrocyte tensors and other parameters by differentiating through the dynamics: digits, "
    "inpainting, gain",
    "astrosnn": "AstroSNN (astrocyte-modulated spiking units) against LIF-SNN, LSTM and transformer baselines at "
    "equal parameters: retention, language modelling, generation",
}
