import hashlib

from modlab import provenance


def test_notes_and_data_file_hashes_are_collected_then_reset(tmp_path):
    data = tmp_path / "batch.bin"
    data.write_bytes(b"modlab" * 1000)
    provenance.reset()
    provenance.note("engine", "batched")
    provenance.note_data_file(data)
    collected = provenance.collect()
    assert collected["engine"] == "batched"
    assert collected["data_files"] == {str(data.resolve()): hashlib.sha256(b"modlab" * 1000).hexdigest()}
    provenance.reset()
    assert provenance.collect() == {}


def test_a_changed_file_is_hashed_again(tmp_path):
    data = tmp_path / "x.bin"
    data.write_bytes(b"a")
    first = provenance.sha256_of(data)
    data.write_bytes(b"bb")
    assert provenance.sha256_of(data) != first == hashlib.sha256(b"a").hexdigest()
