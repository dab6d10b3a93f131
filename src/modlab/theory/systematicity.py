"""Systematicity of a linear map (docs/specialization.md §2): its four quadrant norms and one scalar.

A network's total map ``W`` (outputs × inputs) is cut by rows Ωy/Γy and columns Ωx/Γx. It is
systematic when the systematic outputs read the systematic inputs alone: ``‖W[Ωy, Γx]‖ = 0``.
The functions take numpy arrays or torch tensors with any leading batch axes.
"""

from __future__ import annotations

QUADRANTS = ("oy_ox", "oy_gx", "gy_ox", "gy_gx")


def quadrant_norms(w, omega_x, gamma_x, omega_y, gamma_y) -> dict:
    """Frobenius norms of ``W[Ωy,Ωx]``, ``W[Ωy,Γx]``, ``W[Γy,Ωx]``, ``W[Γy,Γx]``.

    ``w``: (..., n_out, n_in); index sets: integer arrays. Returns a dict of (...) arrays keyed by
    :data:`QUADRANTS`.
    """
    rows = {"oy": omega_y, "gy": gamma_y}
    cols = {"ox": omega_x, "gx": gamma_x}
    out = {}
    for name in QUADRANTS:
        block = w[..., rows[name[:2]], :][..., cols[name[3:]]]
        out[name] = (block**2).sum((-2, -1)) ** 0.5
    return out


def systematicity(norms: dict):
    """``‖W[Ωy,Ωx]‖² / (‖W[Ωy,Ωx]‖² + ‖W[Ωy,Γx]‖²)``: 1 = the systematic outputs ignore Γx
    (NaN when the systematic outputs are zero)."""
    on, off = norms["oy_ox"] ** 2, norms["oy_gx"] ** 2
    return on / (on + off)
