"""modlab: theory and experiments of modular neural networks.

Implements Boopathy et al. (ICLR 2025), "Breaking Neural Network Scaling Laws with Modularity", and
Jarvis, Klein, Rosman & Saxe (ICLR 2023), "On the Specialization of Neural Modules".
"""

__version__ = "0.2.0"
