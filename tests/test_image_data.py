"""Dataset readers: real file formats written here, read back; bad files give one-line errors."""

import gzip
import hashlib
import pickle

import numpy as np
import pytest
import torch

from modlab import provenance
from modlab.errors import ModlabError
from modlab.tasks.image_data import DataFileError, load_images, read_cifar10, read_mnist


def _cifar_batch(path, n, seed):
    rng = np.random.default_rng(seed)
    batch = {
        b"batch_label": b"test",
        b"labels": rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [b"x.png"] * n,
    }
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return batch


def _write_cifar(root, n=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    batches = [_cifar_batch(folder / f"data_batch_{i}", n, i) for i in range(1, 6)]
    test = _cifar_batch(folder / "test_batch", n, 9)
    return folder, batches, test


def _idx(shape, data, magic):
    header = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in shape)
    return header + data.astype(np.uint8).tobytes()


def _write_mnist(folder, n=6, gz=False):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28))
    labels = rng.integers(0, 10, n)
    for prefix in ("train", "t10k"):
        for name, blob in (
            (f"{prefix}-images-idx3-ubyte", _idx((n, 28, 28), images, 0x803)),
            (f"{prefix}-labels-idx1-ubyte", _idx((n,), labels, 0x801)),
        ):
            path = folder / (name + (".gz" if gz else ""))
            path.write_bytes(gzip.compress(blob) if gz else blob)
    return images, labels


def test_cifar_round_trip(tmp_path):
    folder, batches, test = _write_cifar(tmp_path)
    train = load_images("cifar10", "train", tmp_path)
    assert train.images.shape == (20, 3, 32, 32) and train.labels.tolist() == sum((b[b"labels"] for b in batches), [])
    first = batches[0][b"data"][0].reshape(3, 32, 32) / 255.0
    assert torch.allclose(train.images[0], torch.as_tensor(first, dtype=torch.float32))
    assert load_images("cifar10", "test", folder).labels.tolist() == test[b"labels"]


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_round_trip(tmp_path, gz):
    images, labels = _write_mnist(tmp_path, gz=gz)
    data = read_mnist(tmp_path, "test")
    assert data.images.shape == (6, 1, 28, 28) and data.labels.tolist() == labels.tolist()
    assert torch.allclose(data.images[:, 0] * 255, torch.as_tensor(images, dtype=torch.float32))


def _noted_files(source, split, data_dir) -> dict[str, str]:
    provenance.reset()
    load_images(source, split, data_dir)
    return provenance.collect()["data_files"]


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_file_read_is_noted_with_its_sha256_even_from_the_cache(tmp_path):
    cifar_root, mnist_root = tmp_path / "cifar", tmp_path / "mnist"
    cifar_root.mkdir()
    mnist_root.mkdir()
    folder, _, _ = _write_cifar(cifar_root)
    _write_mnist(mnist_root, gz=True)
    expected = {
        ("cifar10", "train", cifar_root): [folder / f"data_batch_{i}" for i in range(1, 6)],
        ("cifar10", "test", cifar_root): [folder / "test_batch"],
        ("mnist", "test", mnist_root): [
            mnist_root / "t10k-images-idx3-ubyte.gz",
            mnist_root / "t10k-labels-idx1-ubyte.gz",
        ],
    }
    for (source, split, root), paths in expected.items():
        want = {str(p.resolve()): _sha256(p) for p in paths}
        assert _noted_files(source, split, root) == want
        assert _noted_files(source, split, root) == want  # second load: parsed arrays cached, still noted
    provenance.reset()
    load_images("digits", "train")
    assert "data_files" not in provenance.collect()


def test_data_dir_from_environment(tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    _write_mnist(tmp_path / "mnist")
    monkeypatch.setenv("MODLAB_DATA", str(tmp_path))
    assert len(load_images("mnist", "train")) == 6


def test_digits_default_needs_no_files(monkeypatch):
    monkeypatch.delenv("MODLAB_DATA", raising=False)
    train, test = load_images("digits", "train"), load_images("digits", "test")
    assert (len(train), len(test)) == (1200, 597) and train.images.shape[1:] == (1, 8, 8)
    assert 0 <= float(train.images.min()) and float(train.images.max()) <= 1
    with pytest.raises(DataFileError, match="--data-dir"):
        load_images("cifar10", "train")


def _one_line(err: pytest.ExceptionInfo, *words: str) -> None:
    text = str(err.value)
    assert isinstance(err.value, ModlabError) and "\n" not in text
    for word in words:
        assert word in text


def test_missing_cifar_batch_names_the_file(tmp_path):
    folder, _, _ = _write_cifar(tmp_path)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataFileError) as err:
        read_cifar10(folder, "train")
    _one_line(err, "data_batch_3", "CIFAR-10 python batch")


@pytest.mark.parametrize("content", [b"not a pickle at all", pickle.dumps({b"data": [1, 2]}), pickle.dumps(print)])
def test_garbage_cifar_batch(tmp_path, content):
    folder, _, _ = _write_cifar(tmp_path)
    (folder / "test_batch").write_bytes(content)
    with pytest.raises(DataFileError) as err:
        read_cifar10(folder, "test")
    _one_line(err, "test_batch", "b'data': uint8 N×3072")


def test_truncated_and_garbage_idx(tmp_path):
    _write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFileError) as err:
        read_mnist(tmp_path, "train")
    _one_line(err, "train-images-idx3-ubyte", "header promises 4704 bytes", "found 4604")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x03junk")
    with pytest.raises(DataFileError) as err:
        read_mnist(tmp_path, "test")
    _one_line(err, "t10k-labels-idx1-ubyte", "magic 0x00000801")


def test_corrupt_gzip_and_missing_idx(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DataFileError) as err:
        read_mnist(tmp_path, "train")
    _one_line(err, "train-images-idx3-ubyte.gz")
    with pytest.raises(DataFileError) as err:
        read_mnist(tmp_path, "test")
    _one_line(err, "t10k-images-idx3-ubyte", "MNIST IDX")
