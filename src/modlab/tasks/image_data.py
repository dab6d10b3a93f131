"""Labelled image sets: real CIFAR-10 and MNIST files read from a user-given folder, and the offline
default ``sklearn.datasets.load_digits`` that needs no files at all.

Nothing is ever downloaded. The folder comes from the ``data_dir`` argument or, when that is None,
the ``MODLAB_DATA`` environment variable (``modlab … --data-dir DIR`` sets it). Inside it modlab looks for

- CIFAR-10: the python pickles ``data_batch_1`` … ``data_batch_5`` and ``test_batch``, in
  ``DIR/cifar-10-batches-py/`` or in ``DIR`` itself;
- MNIST: the IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each plain or ``.gz``), in ``DIR/mnist/``,
  ``DIR/MNIST/raw/`` (torchvision's layout) or ``DIR``.

A missing or malformed file raises :class:`DataFileError`: one line naming the file and what was
expected. CIFAR pickles are read by an unpickler that accepts numpy arrays and nothing else (a pickle
can run code; these files must only hold data). Every file a load reads is noted with
:func:`modlab.provenance.note_data_file`, on every call (the parsed arrays are cached, the notes are
not), so each stored run keeps the SHA-256 of the data it was computed from.
"""

from __future__ import annotations

import functools
import gzip
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from modlab import provenance
from modlab.errors import ModlabError

Source = Literal["digits", "mnist", "cifar10"]
Split = Literal["train", "test"]
DATA_ENV = "MODLAB_DATA"
N_CLASSES = 10
DIGITS_TRAIN = 1200  # load_digits' first 1200 images train, the other 597 test
CIFAR_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CIFAR_SHAPE = (3, 32, 32)
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 0x00000803, 0x00000801


class DataFileError(ModlabError):
    """A dataset file (or folder) that is missing or does not hold what its format promises."""


@dataclass(frozen=True)
class LabelledImages:
    """``images``: (N, C, H, W) float32 in [0, 1]; ``labels``: (N,) int64 class indices 0…9."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def load_images(source: Source, split: Split, data_dir: str | Path | None = None) -> LabelledImages:
    """The ``split`` of ``source``; real sources read from ``data_dir`` (default ``$MODLAB_DATA``)."""
    if split not in ("train", "test"):
        raise ValueError(f"split = {split!r}: allowed train, test")
    if source == "digits":
        return _digits(split)
    if source == "cifar10":
        folder = _find_folder(data_dir, source, ("cifar-10-batches-py", "."))
        images, files = read_cifar10(folder, split), cifar10_files(folder, split)
    elif source == "mnist":
        folder = _find_folder(data_dir, source, ("mnist", "MNIST/raw", "."))
        images, files = read_mnist(folder, split), mnist_files(folder, split)
    else:
        raise ValueError(f"source = {source!r}: allowed digits, mnist, cifar10")
    for path in files:
        provenance.note_data_file(path)
    return images


def check_files(source: Source, data_dir: str | Path | None = None) -> None:
    """Read both splits of ``source`` once, so a missing or bad file is reported before any training."""
    for split in ("train", "test"):
        load_images(source, split, data_dir)


def resolve_data_dir(data_dir: str | Path | None, source: str) -> Path:
    """``data_dir``, else ``$MODLAB_DATA``; a DataFileError if neither names an existing folder."""
    given = data_dir if data_dir is not None else os.environ.get(DATA_ENV)
    if not given:
        raise DataFileError(
            f"source {source!r} reads files: pass --data-dir DIR or set {DATA_ENV}=DIR (nothing is downloaded)"
        )
    path = Path(given).expanduser()
    if not path.is_dir():
        raise DataFileError(f"data folder {path} for source {source!r} does not exist")
    return path


def _find_folder(data_dir, source: str, candidates: tuple[str, ...]) -> Path:
    """The first candidate sub-folder of the data folder that exists (``.`` = the folder itself)."""
    root = resolve_data_dir(data_dir, source)
    for name in candidates:
        if (root / name).is_dir() and any((root / name).iterdir()):
            return (root / name).resolve()
    return root.resolve()


@functools.lru_cache(maxsize=4)
def _digits(split: Split) -> LabelledImages:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    part = slice(0, DIGITS_TRAIN) if split == "train" else slice(DIGITS_TRAIN, None)
    return LabelledImages(images[part], labels[part])


def cifar10_files(folder: Path, split: Split) -> list[Path]:
    """The python batches of ``split`` in ``folder``."""
    return [Path(folder) / name for name in CIFAR_FILES[split]]


@functools.lru_cache(maxsize=4)
def read_cifar10(folder: Path, split: Split) -> LabelledImages:
    """CIFAR-10's python batches in ``folder`` → images (N, 3, 32, 32) in [0, 1], labels (N,)."""
    parts = [_read_cifar_batch(path) for path in cifar10_files(folder, split)]
    data = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    images = torch.as_tensor(data.reshape(-1, *CIFAR_SHAPE), dtype=torch.float32) / 255.0
    return LabelledImages(images, torch.as_tensor(labels, dtype=torch.int64))


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    expected = "a CIFAR-10 python batch (pickled dict with b'data': uint8 N×3072 and b'labels': N ints 0–9)"
    if not path.is_file():
        raise DataFileError(f"missing file {path}: expected {expected}")
    try:
        with path.open("rb") as handle:
            batch = _ArraysOnlyUnpickler(handle, encoding="bytes").load()
    except Exception as err:  # noqa: BLE001 - any unreadable pickle is the same user-facing problem
        raise DataFileError(f"file {path} is not {expected} ({type(err).__name__}: {_first_line(err)})") from None
    data = batch.get(b"data") if isinstance(batch, dict) else None
    labels = np.asarray(batch.get(b"labels", []) if isinstance(batch, dict) else [])
    ok = (
        isinstance(data, np.ndarray)
        and data.dtype == np.uint8
        and data.ndim == 2
        and data.shape[1] == int(np.prod(CIFAR_SHAPE))
        and labels.shape == (data.shape[0],)
        and labels.dtype.kind in "iu"
        and (labels.size == 0 or (labels.min() >= 0 and labels.max() < N_CLASSES))
    )
    if not ok:
        raise DataFileError(f"file {path} is not {expected}")
    return data, labels  # type: ignore[return-value]  # `ok` above checks data is an ndarray


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes and numpy arrays; refuses every other global. (``_codecs.encode``
    is how protocol-2 pickles written by Python 3 spell bytes.)"""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        return super().find_class(module, name)


def mnist_files(folder: Path, split: Split) -> list[Path]:
    """The IDX image and label files of ``split`` in ``folder`` (plain or .gz; a DataFileError if missing)."""
    return [_idx_path(Path(folder), name) for name in MNIST_FILES[split]]


@functools.lru_cache(maxsize=4)
def read_mnist(folder: Path, split: Split) -> LabelledImages:
    """MNIST's IDX files in ``folder`` (plain or .gz) → images (N, 1, 28, 28) in [0, 1], labels (N,)."""
    image_name, label_name = MNIST_FILES[split]
    images = _read_idx(_idx_path(Path(folder), image_name), IDX_IMAGES_MAGIC, "images (N×rows×cols uint8)")
    labels = _read_idx(_idx_path(Path(folder), label_name), IDX_LABELS_MAGIC, "labels (N uint8)")
    if len(images) != len(labels):
        raise DataFileError(
            f"files {image_name} and {label_name} in {folder}: {len(images)} images but {len(labels)} labels"
        )
    if labels.size and labels.max() >= N_CLASSES:
        raise DataFileError(f"file {label_name} in {folder}: expected labels 0–9, found {int(labels.max())}")
    tensor = torch.as_tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0
    return LabelledImages(tensor, torch.as_tensor(labels.astype(np.int64)))


def _idx_path(folder: Path, name: str) -> Path:
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    raise DataFileError(f"missing file {folder / name} (or {name}.gz): expected MNIST IDX data")


def _read_idx(path: Path, magic: int, what: str) -> np.ndarray:
    """An IDX file of unsigned bytes: big-endian magic, one int32 per dimension, then the data."""
    expected = f"an IDX file of {what}, magic 0x{magic:08x}"
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataFileError(f"file {path} is not {expected} ({_first_line(err)})") from None
    n_dims = magic & 0xFF
    header = 4 * (1 + n_dims)
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise DataFileError(f"file {path} is not {expected}")
    shape = tuple(int.from_bytes(raw[4 * (i + 1) : 4 * (i + 2)], "big") for i in range(n_dims))
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise DataFileError(
            f"file {path}: header promises {size} bytes of data ({'×'.join(map(str, shape))}), found {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def _first_line(err: BaseException) -> str:
    text = str(err)
    return text.splitlines()[0] if text else type(err).__name__


__all__ = [
    "DATA_ENV",
    "DataFileError",
    "check_files",
    "cifar10_files",
    "LabelledImages",
    "load_images",
    "mnist_files",
    "read_cifar10",
    "read_mnist",
    "resolve_data_dir",
]
