"""Measures of what a trained network learned, computed from plain tensors (no engine, no store)."""

from modlab.measures.overlap import best_overlaps, mean_overlap, overlap_matrix, overlap_matrix_reference

__all__ = ["best_overlaps", "mean_overlap", "overlap_matrix", "overlap_matrix_reference"]
