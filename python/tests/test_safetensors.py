"""safetensors from Python: the MindSpore 2.x calls (ckpt_to_safetensors, safetensors_to_ckpt,
unified_safetensors, load_distributed_checkpoint(format=...), load/save_checkpoint(format=...)),
each writing the same bytes as the CLI."""

import json
import os

import numpy as np
import pytest

import dinfer
from conftest import cli
from test_api import predict_context, same_tree


def test_save_and_load_safetensors_keep_every_dtype(tmp_path):
    tensors = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "f16": np.ones(4, np.float16),
               "i64": np.array(7, np.int64), "u8": np.arange(5, dtype=np.uint8), "flag": np.array([True, False])}
    dinfer.save_checkpoint(tensors, tmp_path / "t.safetensors", format="safetensors")
    back = dinfer.load_checkpoint(tmp_path / "t.safetensors", format="safetensors")
    for name, array in tensors.items():
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
        np.testing.assert_array_equal(back[name], array)
    described = json.loads(dinfer._dinfer.describe_file(str(tmp_path / "t.safetensors")))
    assert described["format"] == "safetensors" and described["sha256"] == "ok"
    with pytest.raises(dinfer.DinferError, match="not a ckpt checkpoint"):
        dinfer.load_checkpoint(tmp_path / "t.safetensors", format="ckpt")
    with pytest.raises(dinfer.DinferUsageError, match="format must be 'ckpt' or 'safetensors'"):
        dinfer.save_checkpoint(tensors, tmp_path / "x", format="h5")


def test_ckpt_to_safetensors_and_back_are_the_cli(training, tmp_path):
    written = dinfer.ckpt_to_safetensors(training["ckpt_dir"], save_path=tmp_path / "st")
    assert len(written) == 8 and all(f.endswith(".safetensors") for f in written)
    for rank in range(8):
        cli("reshard", "--src", training["files"][rank], "--src-strategy", "none", "--dst",
            tmp_path / "cli" / f"rank_{rank}" / f"checkpoint_{rank}.safetensors", "--dst-strategy", "none",
            "--format", "safetensors")
    assert same_tree(tmp_path / "st", tmp_path / "cli") == 8
    back = dinfer.safetensors_to_ckpt(tmp_path / "st", save_path=tmp_path / "ckpt")
    assert len(back) == 8
    for rank, file in enumerate(training["files"]):
        a, b = dinfer.load_checkpoint(file), dinfer.load_checkpoint(tmp_path / "ckpt" / f"rank_{rank}" /
                                                                    f"checkpoint_{rank}.ckpt")
        assert list(a) == list(b)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    renamed = dinfer.ckpt_to_safetensors(training["full"], save_path=tmp_path / "renamed",
                                         name_map={"down.bias": "mlp.down.bias"})
    assert "mlp.down.bias" in dinfer.load_checkpoint(renamed[0])


def test_unified_safetensors_merges_into_hugging_face_shards(training, tmp_path):
    dinfer.ckpt_to_safetensors(training["ckpt_dir"], save_path=tmp_path / "st")
    dinfer.unified_safetensors(tmp_path / "st", training["strategy"], tmp_path / "unified", max_shard_size="256K")
    index = json.load(open(tmp_path / "unified" / "model.safetensors.index.json"))
    files = sorted(set(index["weight_map"].values()))
    assert len(files) > 1 and files[0] == f"model-00001-of-{len(files):05d}.safetensors"
    merged, full = dinfer.load_checkpoint(tmp_path / "unified"), dinfer.load_checkpoint(training["full"])
    for name, array in full.items():
        np.testing.assert_array_equal(merged[name], array)
    assert index["metadata"]["total_size"] == sum(a.nbytes for a in merged.values())

    only = dinfer.unified_safetensors(tmp_path / "st", training["strategy"], tmp_path / "only",
                                      choice_func=lambda name: name.startswith("ln1"))
    assert only["files"] == 1
    assert set(dinfer.load_checkpoint(tmp_path / "only")) == {n for n in full if n.startswith("ln1")}


def test_load_distributed_checkpoint_from_and_to_safetensors(training, tmp_path):
    dinfer.ckpt_to_safetensors(training["ckpt_dir"], save_path=tmp_path / "st")
    files = [str(tmp_path / "st" / f"rank_{r}" / f"checkpoint_{r}.safetensors") for r in range(8)]
    predict_context(training)
    net = dinfer.Model(training["model"])
    layout = dinfer.infer_predict_layout(net, (2, 32, 128))
    dinfer.load_distributed_checkpoint(net, files, layout, format="safetensors")
    assert os.path.isfile(os.path.join(net._loaded[1], "rank_0", "checkpoint_0.safetensors"))
    reference = dinfer.Model(training["model"])
    dinfer.infer_predict_layout(reference, (2, 32, 128))
    dinfer.load_distributed_checkpoint(reference, training["files"], layout)
    for rank in range(4):
        a, b = net.parameters(rank), reference.parameters(rank)
        assert set(a) == set(b)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    with pytest.raises(dinfer.DinferUsageError, match="format must be 'ckpt' or 'safetensors'"):
        dinfer.load_distributed_checkpoint(net, files, layout, format="h5")


def test_transform_checkpoint_by_rank_from_safetensors(training, tmp_path):
    dinfer.ckpt_to_safetensors(training["ckpt_dir"], save_path=tmp_path / "st")
    files = {r: str(tmp_path / "st" / f"rank_{r}" / f"checkpoint_{r}.safetensors") for r in range(8)}
    dinfer.transform_checkpoint_by_rank(5, files, tmp_path / "r5.safetensors", training["strategy"],
                                        training["strategy"])
    original = dinfer.load_checkpoint(training["files"][5])
    again = dinfer.load_checkpoint(tmp_path / "r5.safetensors", format="safetensors")
    assert set(original) == set(again)
    for name in original:
        np.testing.assert_array_equal(original[name], again[name])
