"""The MindSpore-shaped calls against the command line: the same files, byte for byte, and
the same layouts; numpy in and out; errors as exceptions carrying the C++ message."""

import filecmp
import json
import os

import numpy as np
import pytest

import dinfer
from conftest import GPT_BLOCK, cli


def same_tree(a, b):
    """Every file under a and b, compared byte for byte."""
    files_a = sorted(os.path.relpath(os.path.join(d, f), a) for d, _, fs in os.walk(a) for f in fs)
    files_b = sorted(os.path.relpath(os.path.join(d, f), b) for d, _, fs in os.walk(b) for f in fs)
    assert files_a == files_b
    match, mismatch, errors = filecmp.cmpfiles(a, b, files_a, shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    return len(match)


def predict_context(training, devices=4, stages=None):
    dinfer.set_auto_parallel_context(device_num=devices, full_batch=True, parallel_mode="semi_auto_parallel",
                                     strategy_ckpt_load_file=training["strategy"])
    if stages:
        dinfer.set_auto_parallel_context(pipeline_stages=stages)


def test_context_checks_keys_and_values():
    with pytest.raises(dinfer.DinferUsageError, match="unknown key 'device_count'"):
        dinfer.set_auto_parallel_context(device_count=4)
    with pytest.raises(ValueError, match="device_num=0"):
        dinfer.set_auto_parallel_context(device_num=0)
    dinfer.set_auto_parallel_context(device_num=4, pipeline_stages=2)
    assert dinfer.get_auto_parallel_context("device_num") == 4
    dinfer.reset_auto_parallel_context()
    assert dinfer.get_auto_parallel_context("pipeline_stages") == 1


def test_infer_predict_layout_is_the_cli_layout(training, tmp_path):
    predict_context(training)
    x = np.load(os.path.join(GPT_BLOCK, "x.npy"))
    net = dinfer.Model(training["model"])
    layout = dinfer.infer_predict_layout(net, x)

    result = cli("layout", "--model", training["model"], "--train-strategy", training["strategy"], "--input",
                 "x=2,32,128:float32", "--device-num", 4, "--json", "-o", tmp_path / "predict.ckpt")
    expected = json.loads(result.stdout)["layouts"]
    assert set(layout) == set(expected)
    for name, entry in expected.items():
        assert layout[name] == (entry["dev_matrix"], entry["tensor_map"], entry["slice_shape"], 0, True, "")
    assert filecmp.cmp(net._predict_strategy_file, tmp_path / "predict.ckpt", shallow=False)

    # The shapes alone give the same layout; the 12-tuple adds MindSpore 2.3's fields.
    assert dinfer.infer_predict_layout(net, (2, 32, 128)) == layout
    full = net.infer_predict_layout(x, tuple_size=12)
    name = next(iter(full))
    assert len(full[name]) == 12 and full[name][:6] == layout[name]
    assert full[name][6] == expected[name]["full_shape"]


def test_infer_predict_layout_needs_the_context(training):
    net = dinfer.Model(training["model"])
    x = np.zeros((2, 32, 128), np.float32)
    with pytest.raises(dinfer.DinferUsageError, match="full_batch=True"):
        dinfer.infer_predict_layout(net, x)
    dinfer.set_auto_parallel_context(full_batch=True)
    with pytest.raises(dinfer.DinferUsageError, match="strategy_ckpt_load_file"):
        dinfer.infer_predict_layout(net, x)
    predict_context(training)
    with pytest.raises(dinfer.DinferUsageError, match="takes 1 input"):
        dinfer.infer_predict_layout(net, x, x)
    with pytest.raises(dinfer.DinferError, match="input 'x'"):
        dinfer.infer_predict_layout(net, np.zeros((2, 32, 64), np.float32))


def test_load_distributed_checkpoint_is_the_cli_reshard(training, tmp_path):
    predict_context(training)
    net = dinfer.Model(training["model"])
    layout = dinfer.infer_predict_layout(net, (2, 32, 128))
    progress = []
    dinfer.load_distributed_checkpoint(net, training["files"], layout,
                                       progress=lambda phase, done, total: progress.append((phase, done, total)))
    assert progress and progress[-1][0] == "reshard" and progress[-1][1] == progress[-1][2]

    cli("layout", "--model", training["model"], "--train-strategy", training["strategy"], "--input",
        "x=2,32,128", "--device-num", 4, "-o", tmp_path / "predict.ckpt")
    cli("reshard", "--src", training["ckpt_dir"], "--src-strategy", training["strategy"], "--dst-strategy",
        tmp_path / "predict.ckpt", "--dst", tmp_path / "predict")
    assert same_tree(net._loaded[1], tmp_path / "predict") == 4

    # Each rank holds the slice of the full tensor its predict layout names.
    # (2 stages of 2 ranks: a rank holds its stage's parameters.)
    full = dinfer.load_checkpoint(training["full"])
    seen = set()
    for rank in range(4):
        params = net.parameters(rank)
        seen |= set(params)
        for name in params:
            dev_matrix, tensor_map, slice_shape = layout[name][:3]
            offset, shape = dinfer._dinfer.rank_slice(list(full[name].shape), dev_matrix, tensor_map, rank % 2)
            region = full[name][tuple(slice(o, o + n) for o, n in zip(offset, shape))]
            assert params[name].shape == tuple(slice_shape)
            np.testing.assert_array_equal(params[name], region)
    assert seen == set(layout)


def test_load_distributed_checkpoint_without_predict_strategy_merges(training):
    predict_context(training)
    net = dinfer.Model(training["model"])
    dinfer.load_distributed_checkpoint(net, training["files"])
    merged, full = net.parameters(), dinfer.load_checkpoint(training["full"])
    assert set(merged) >= set(full)
    for name, array in full.items():
        np.testing.assert_array_equal(merged[name], array)


def test_load_distributed_checkpoint_errors(training, tmp_path):
    predict_context(training)
    net = dinfer.Model(training["model"])
    files = list(training["files"])
    files[3] = str(tmp_path / "missing.ckpt")
    with pytest.raises(dinfer.DinferError, match="missing.ckpt"):
        dinfer.load_distributed_checkpoint(net, files)
    with pytest.raises(dinfer.DinferUsageError, match="infer_predict_layout was not called"):
        dinfer.load_distributed_checkpoint(net, training["files"], {"w": ([1], [-1], [4], 0, True, "")})


def test_export_and_predict_are_the_cli(training, tmp_path):
    predict_context(training)
    x = np.load(os.path.join(GPT_BLOCK, "x.npy"))
    net = dinfer.Model(training["model"])
    layout = dinfer.infer_predict_layout(net, x)
    dinfer.load_distributed_checkpoint(net, training["files"], layout)
    events = []
    out = dinfer.export(net, x, file_name=tmp_path / "py", progress=lambda *e: events.append(e), report=True)
    assert out == str(tmp_path / "py") and events[-1] == ("export", 4, 4)

    cli("export", "--model", training["model"], "--train-strategy", training["strategy"], "--ckpt-dir",
        training["ckpt_dir"], "--input", "x=2,32,128:float32", "--device-num", 4, "--report", "-o", tmp_path / "cli")
    # 4 x (net.mindir, group_config.pb) + manifest + report.json + report.html
    assert same_tree(tmp_path / "py", tmp_path / "cli") == 11

    y = dinfer.predict(net, x)
    np.testing.assert_allclose(y, np.load(os.path.join(GPT_BLOCK, "y.npy")), rtol=1e-3, atol=1e-5)
    cli("run", tmp_path / "cli", "--input", f"x={GPT_BLOCK}/x.npy", "--output-dir", tmp_path / "cli-out")
    np.testing.assert_array_equal(y, np.load(tmp_path / "cli-out" / "y.npy"))
    # An export folder runs by itself too.
    np.testing.assert_array_equal(dinfer.predict(str(tmp_path / "py"), x), y)


def test_predict_single_device_and_partitioned(training):
    x = np.load(os.path.join(GPT_BLOCK, "x.npy"))
    want = np.load(os.path.join(GPT_BLOCK, "y.npy"))
    y = dinfer.Model(training["model"]).predict(x)
    np.testing.assert_allclose(y, want, rtol=1e-3, atol=1e-5)
    predict_context(training, devices=2)
    y2 = dinfer.predict(training["model"], x)
    np.testing.assert_allclose(y2, want, rtol=1e-3, atol=1e-5)
    with pytest.raises(dinfer.DinferError, match="input 'x'"):
        dinfer.predict(training["model"], np.zeros((2, 32, 7), np.float32))


def test_predict_in_bfloat16_on_one_device_and_on_ranks(training):
    # The products in bfloat16 (float32 where the CPU has no bfloat16 kernel): within its rounding.
    x = np.load(os.path.join(GPT_BLOCK, "x.npy"))
    want = np.load(os.path.join(GPT_BLOCK, "y.npy"))
    scale = float(np.max(np.abs(want)))
    y = dinfer.predict(training["model"], x, dtype="bfloat16")
    assert y.dtype == np.float32 and np.max(np.abs(y - want)) <= 3e-2 * scale
    predict_context(training, devices=2)
    y2 = dinfer.predict(training["model"], x, dtype="bfloat16")
    assert np.max(np.abs(y2 - want)) <= 3e-2 * scale
    with pytest.raises(dinfer.DinferUsageError, match="float16"):
        dinfer.predict(training["model"], x, dtype="float16")


def test_predict_takes_and_returns_arrays_in_memory(training, tmp_path, monkeypatch):
    # No .npy file is written or read on the way: the arrays go to the runtime and back in memory.
    x = np.load(os.path.join(GPT_BLOCK, "x.npy"))
    want = np.load(os.path.join(GPT_BLOCK, "y.npy"))

    def no_files(*args, **kwargs):
        raise AssertionError("predict touched a .npy file")

    monkeypatch.setattr(np, "save", no_files)
    monkeypatch.setattr(np, "load", no_files)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    y = dinfer.predict(training["model"], x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == want.shape
    np.testing.assert_allclose(y, want, rtol=1e-3, atol=1e-5)
    # A strided view is taken as its values, not its memory.
    y_view = dinfer.predict(training["model"], np.asfortranarray(x))
    np.testing.assert_array_equal(y_view, y)
    assert not list(tmp_path.iterdir())
    # The caller's mistakes are a ValueError (DinferUsageError); failed work a DinferError.
    with pytest.raises(ValueError, match="takes 1 input"):
        dinfer.predict(training["model"], x, x)
    with pytest.raises(dinfer.DinferError, match="is Float32 of \\[2,32,7\\]"):
        dinfer.predict(training["model"], np.zeros((2, 32, 7), np.float32))


def test_transform_checkpoints_is_the_cli(training, tmp_path):
    predict_context(training)
    cli("layout", "--model", training["model"], "--train-strategy", training["strategy"], "--input",
        "x=2,32,128", "--device-num", 4, "-o", tmp_path / "predict.ckpt")
    dinfer.transform_checkpoints(training["ckpt_dir"], tmp_path / "py", "net_", training["strategy"],
                                 tmp_path / "predict.ckpt")
    cli("reshard", "--src", training["ckpt_dir"], "--src-strategy", training["strategy"], "--dst-strategy",
        tmp_path / "predict.ckpt", "--dst", tmp_path / "cli", "--prefix", "net_")
    assert same_tree(tmp_path / "py", tmp_path / "cli") == 4
    assert os.path.isfile(tmp_path / "py" / "rank_2" / "net_2.ckpt")

    # By rank: one destination file, from {source rank: file}.
    dinfer.transform_checkpoint_by_rank(2, dict(enumerate(training["files"])), tmp_path / "one" / "r2.ckpt",
                                        training["strategy"], tmp_path / "predict.ckpt")
    assert filecmp.cmp(tmp_path / "one" / "r2.ckpt", tmp_path / "cli" / "rank_2" / "net_2.ckpt", shallow=False)
    assert os.listdir(tmp_path / "one") == ["r2.ckpt"]

    # Merged back to one device (strategy None): the full checkpoint's tensors.
    dinfer.transform_checkpoints(tmp_path / "py", tmp_path / "merged", "full_", tmp_path / "predict.ckpt", None)
    merged = dinfer.load_checkpoint(tmp_path / "merged" / "rank_0" / "full_0.ckpt")
    for name, array in dinfer.load_checkpoint(training["full"]).items():
        np.testing.assert_array_equal(merged[name], array)
    with pytest.raises(dinfer.DinferUsageError, match=r"lacks source rank\(s\) \[1\]"):
        dinfer.transform_checkpoint_by_rank(0, {0: training["files"][0], 2: training["files"][2]}, tmp_path / "x",
                                            training["strategy"], tmp_path / "predict.ckpt")


def test_merge_sliced_parameter_docs_sample():
    # The MindSpore docs sample: [96,16] trained with dev_matrix [2,4], tensor_map [-1,0].
    full = np.arange(96 * 16, dtype=np.float32).reshape(96, 16)
    layout = dinfer.Layout(dev_matrix=[2, 4], tensor_map=[-1, 0])
    slices = []
    for rank in range(8):
        offset, shape = dinfer._dinfer.rank_slice([96, 16], [2, 4], [-1, 0], rank)
        assert shape == [96, 4]
        slices.append(dinfer.Parameter(full[:, offset[1]:offset[1] + 4], "matmul_weight"))
    merged = dinfer.merge_sliced_parameter(slices, {"matmul_weight": layout})
    assert merged.name == "matmul_weight"
    np.testing.assert_array_equal(merged.asnumpy(), full)
    # Without a strategy, MindSpore concatenates along axis 0.
    assert dinfer.merge_sliced_parameter(slices[:2]).shape == (192, 4)
    with pytest.raises(ValueError, match="7 slices for a layout over 8 devices"):
        dinfer.merge_sliced_parameter(slices[:7], {"matmul_weight": layout})
    with pytest.raises(KeyError):
        dinfer.merge_sliced_parameter(slices, {"other": layout})
    with pytest.raises(ValueError, match="different names"):
        dinfer.merge_sliced_parameter([slices[0], dinfer.Parameter(slices[1].data, "w2")])


def test_build_searched_strategy_and_merge_with_it(training, tmp_path):
    strategy = dinfer.build_searched_strategy(training["strategy"])
    assert all(name.split("-", 1)[0] in ("0", "1") for name in strategy)
    name, layout = next((n, l) for n, l in strategy.items() if any(m != -1 for m in l.tensor_map))
    full = dinfer.load_checkpoint(training["full"])[name.split("-", 1)[1]]
    devices = int(np.prod(layout.dev_matrix))
    slices = []
    for rank in range(devices):
        offset, shape = dinfer._dinfer.rank_slice(list(full.shape), layout.dev_matrix, layout.tensor_map, rank)
        slices.append(dinfer.Parameter(full[tuple(slice(o, o + n) for o, n in zip(offset, shape))], name))
    np.testing.assert_array_equal(dinfer.merge_sliced_parameter(slices, strategy).asnumpy(), full)
    with pytest.raises(TypeError):
        dinfer.build_searched_strategy(3)
    with pytest.raises(ValueError, match="no such strategy file"):
        dinfer.build_searched_strategy(tmp_path / "none.ckpt")


def test_merge_pipeline_strategys_is_the_cli(tmp_path):
    inputs = os.path.join(os.path.dirname(__file__), "..", "..", "test", "tools", "dinfer", "Inputs")
    stages = tmp_path / "stages"
    stages.mkdir()
    for name in ("stage0.json", "stage1.json"):
        (stages / name).write_bytes(open(os.path.join(inputs, name), "rb").read())
    dinfer.merge_pipeline_strategys(stages, tmp_path / "py.ckpt")
    cli("merge-strategy", stages, "-o", tmp_path / "cli.ckpt")
    assert filecmp.cmp(tmp_path / "py.ckpt", tmp_path / "cli.ckpt", shallow=False)
    assert sorted(dinfer.build_searched_strategy(tmp_path / "py.ckpt")) == [
        "0-embedding", "0-layer0.w", "1-embedding", "1-layer1.w"]


def test_checkpoint_round_trip(tmp_path):
    tensors = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "step": np.array([7], np.int64),
               "h": np.ones((2, 2), np.float16)}
    dinfer.save_checkpoint(tensors, tmp_path / "a.ckpt")
    back = dinfer.load_checkpoint(tmp_path / "a.ckpt")
    assert list(back) == list(tensors)
    for name in tensors:
        assert back[name].dtype == tensors[name].dtype
        np.testing.assert_array_equal(back[name], tensors[name])
    assert "3 tensors" in cli("inspect", tmp_path / "a.ckpt").stdout
    with pytest.raises(dinfer.DinferError, match="no MindSpore checkpoint type"):
        dinfer.save_checkpoint({"c": np.zeros(2, np.complex64)}, tmp_path / "b.ckpt")
    assert not os.path.exists(tmp_path / "b.ckpt")


def test_errors_carry_the_cli_message(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"\x0a\x05abc")
    with pytest.raises(dinfer.DinferError) as error:
        dinfer.load_checkpoint(bad)
    assert "bad.ckpt" in str(error.value)
    with pytest.raises(dinfer.DinferUsageError) as usage:
        dinfer.run_command("slices", "--shape", "96,16")
    assert usage.value.exit_code == 2 and usage.value.command == "slices"
    with pytest.raises(dinfer.DinferError, match="no such file"):
        dinfer.Model(tmp_path / "none.onnx")


def test_python_m_dinfer_is_the_cli(capfd):
    assert dinfer.main(["slices", "--shape", "96,16", "--dev-matrix", "2,4", "--tensor-map", "-1,0"]) == 0
    assert "4 distinct slices of shape [96,4]" in capfd.readouterr().out


def test_encrypted_checkpoints_and_export(training, tmp_path):
    # Training slices encrypted with AES-GCM by the CLI, loaded and exported encrypted from Python.
    key = b"0123456789ABCDEF"
    (tmp_path / "key").write_bytes(key)
    cli("reshard", "--src", training["full"], "--src-strategy", "none", "--dst-strategy", training["strategy"],
        "--dst", tmp_path / "train", "--key-file", tmp_path / "key", "--encrypt-output")
    files = [str(tmp_path / "train" / f"rank_{r}" / f"checkpoint_{r}.ckpt") for r in range(8)]
    assert open(files[0], "rb").read(4) == bytes.fromhex("d85e3a7f")
    with pytest.raises(dinfer.DinferError, match="the checkpoint is encrypted"):
        dinfer.load_checkpoint(files[0])
    with pytest.raises(dinfer.DinferError, match="the key is wrong"):
        dinfer.load_checkpoint(files[0], dec_key=b"0123456789ABCDEX")
    assert dinfer.load_checkpoint(files[0], dec_key=key).keys() == dinfer.load_checkpoint(
        training["files"][0]).keys()

    predict_context(training)
    x = np.load(os.path.join(GPT_BLOCK, "x.npy"))
    net = dinfer.Model(training["model"])
    layout = dinfer.infer_predict_layout(net, x)
    with pytest.raises(dinfer.DinferError, match="give its key"):
        dinfer.load_distributed_checkpoint(net, files, layout)
    dinfer.load_distributed_checkpoint(net, files, layout, dec_key=key)
    plain = dinfer.Model(training["model"])
    dinfer.infer_predict_layout(plain, x)
    dinfer.load_distributed_checkpoint(plain, training["files"], layout)
    for rank in range(4):
        for name, array in plain.parameters(rank).items():
            np.testing.assert_array_equal(net.parameters(rank)[name], array)

    dinfer.export(net, x, file_name=tmp_path / "out", enc_key=key)
    assert open(tmp_path / "out" / "rank_0" / "net.mindir", "rb").read(4) == bytes.fromhex("d85e3a7f")
    np.testing.assert_allclose(dinfer.predict(net, x), np.load(os.path.join(GPT_BLOCK, "y.npy")), rtol=1e-3,
                               atol=1e-5)
    with pytest.raises(dinfer.DinferError, match="the MindIR is encrypted"):
        dinfer.predict(str(tmp_path / "out"), x)


def test_generate_makes_torchs_greedy_tokens():
    folder = os.path.join(os.path.dirname(GPT_BLOCK), "llama_cache")
    prompt = np.load(os.path.join(folder, "prompt.npy"))
    expected = np.load(os.path.join(folder, "tokens.npy"))
    tokens = dinfer.generate(os.path.join(folder, "model.onnx"), prompt, 8, threads=1)
    assert tokens.dtype == np.int64 and tokens.shape == (2, 13)
    np.testing.assert_array_equal(tokens, expected)
    assert np.array_equal(dinfer.generate(dinfer.Model(os.path.join(folder, "model.onnx")), prompt[:1], 2),
                          expected[:1, :7])


def test_generate_errors():
    folder = os.path.join(os.path.dirname(GPT_BLOCK), "llama_cache")
    prompt = np.load(os.path.join(folder, "prompt.npy"))
    with pytest.raises(dinfer.DinferUsageError, match="max_new_tokens must be at least 1"):
        dinfer.generate(os.path.join(folder, "model.onnx"), prompt, 0)
    with pytest.raises(dinfer.DinferUsageError, match="input_ids must be int64"):
        dinfer.generate(os.path.join(folder, "model.onnx"), prompt.astype(np.int32), 2)
    with pytest.raises(dinfer.DinferError, match="has no 'input_ids' input"):
        dinfer.generate(os.path.join(GPT_BLOCK, "model.onnx"), prompt, 2)


def test_generate_on_tensor_parallel_ranks(tmp_path):
    folder = os.path.join(os.path.dirname(GPT_BLOCK), "llama_cache")
    model = os.path.join(folder, "model.onnx")
    inputs = ["input_ids=2,5:int64", "attention_mask=2,5:int64", "position_ids=2,5:int64"]
    inputs += [f"past_key_values.{i}.{kind}=2,2,0,16" for i in range(2) for kind in ("key", "value")]
    strategy = tmp_path / "tp2.json"
    cli("strategy", "--model", model, "--device-num", 2, "--preset", "megatron:tp=2",
        *[a for spec in inputs for a in ("--input", spec)], "-o", strategy)
    dinfer.set_auto_parallel_context(device_num=2, strategy_ckpt_load_file=str(strategy))
    tokens = dinfer.generate(model, np.load(os.path.join(folder, "prompt.npy")), 8)
    np.testing.assert_array_equal(tokens, np.load(os.path.join(folder, "tokens.npy")))


def test_generate_from_a_generation_export(tmp_path):
    folder = os.path.join(os.path.dirname(GPT_BLOCK), "llama_cache")
    model = os.path.join(folder, "model.onnx")
    inputs = ["input_ids=2,5:int64", "attention_mask=2,5:int64", "position_ids=2,5:int64"]
    inputs += [f"past_key_values.{i}.{kind}=2,2,0,16" for i in range(2) for kind in ("key", "value")]
    flags = [a for spec in inputs for a in ("--input", spec)]
    strategy = tmp_path / "tp2.json"
    cli("strategy", "--model", model, "--device-num", 2, "--preset", "megatron:tp=2", *flags, "-o", strategy)
    cli("convert", model, tmp_path / "full.mindir", "--weights", tmp_path / "full.ckpt", *flags)
    cli("reshard", "--src", tmp_path / "full.ckpt", "--src-strategy", "none", "--dst-strategy", strategy,
        "--dst", tmp_path / "train")
    dinfer.set_auto_parallel_context(device_num=2, strategy_ckpt_load_file=str(strategy))
    prompt = np.load(os.path.join(folder, "prompt.npy"))
    out = dinfer.export(dinfer.Model(model), prompt, file_name=str(tmp_path / "out"), ckpt_dir=str(tmp_path / "train"),
                        max_length=13)
    assert sorted(os.listdir(os.path.join(out, "rank_1"))) == ["decode.mindir", "group_config.pb", "net.mindir"]
    tokens = dinfer.generate(out, prompt, 8, threads=1)
    np.testing.assert_array_equal(tokens, np.load(os.path.join(folder, "tokens.npy")))
    with pytest.raises(dinfer.DinferError, match="at most 8 new tokens"):
        dinfer.generate(out, prompt, 9)


def test_generate_ends_at_the_eos_token():
    folder = os.path.join(os.path.dirname(GPT_BLOCK), "llama_cache")
    prompt = np.load(os.path.join(folder, "prompt.npy"))
    expected = np.load(os.path.join(folder, "tokens.npy"))
    eos = int(expected[0, 7])  # the first sequence's third new token
    alone = dinfer.generate(os.path.join(folder, "model.onnx"), prompt[:1], 8, eos_token_id=eos)
    np.testing.assert_array_equal(alone, expected[:1, :8])
    both = dinfer.generate(os.path.join(folder, "model.onnx"), prompt, 8, eos_token_id=eos)
    assert both.shape == (2, 13) and (both[0, 8:] == eos).all()
    np.testing.assert_array_equal(both[1], expected[1])
    with pytest.raises(dinfer.DinferUsageError, match="eos_token_id must be a token id"):
        dinfer.generate(os.path.join(folder, "model.onnx"), prompt, 2, eos_token_id=-1)
