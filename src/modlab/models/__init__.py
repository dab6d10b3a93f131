"""Architectures: plain ``torch.nn.Module`` s."""
