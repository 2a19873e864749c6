"""What export_whisper.py and export_caption.py share: tracing a part and
checking the traced graph against the eager module on other shapes than the
one it was traced with (tracing bakes shapes into a graph when a model's
Python branches on them), the tokenizer's files, and writing model.toml.
Written for transformers 4.4x and 5.x: no torchscript flag (5 removed it),
model outputs read by name, tokenizer files checked after saving."""
import argparse
import json
import os

import torch


def arguments(doc):
    """--model, --out (created) and --device, as both exporters take them."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--model", required=True, help="hub name or folder")
    parser.add_argument("--out", required=True, help="the model folder to write")
    parser.add_argument("--device", default="auto", help="model.toml's devices entry")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def trace(module, example, checks, path, atol=1e-4):
    """Traces `module` on `example` (a tuple of inputs), checks it against the
    eager module on each input tuple of `checks`, and saves it to `path`."""
    module = module.eval()
    with torch.no_grad():
        traced = torch.jit.trace(module, example, check_trace=False, strict=False)
        for inputs in checks:
            want, got = module(*inputs), traced(*inputs)
            if want.shape != got.shape or not torch.allclose(want, got, atol=atol, rtol=1e-3):
                raise SystemExit(f"{path}: the traced part differs from the model on inputs of "
                                 f"shapes {[tuple(i.shape) for i in inputs]}")
    torch.jit.save(traced, path)
    print(f"wrote {path}")


def trace_cached_decoder(module, reference, states, prompt, path, steps=6, atol=1e-4):
    """Traces a decoder with a KV cache (docs/models.md#decoder-parts):
    `cross(states)` -> keys and values [layers, 2, 1, heads, S, head_dim] and
    `forward(tokens, cross, cache)` -> (logits of the last token, the grown
    cache). Checks, for 1 and 3 rows, that decoding `prompt` and then
    `steps` tokens one at a time with the traced cache gives each step the
    logits `reference` (the whole sequence, no cache: (tokens, states) ->
    logits) gives, then saves it to `path`."""
    module = module.eval()
    with torch.no_grad():
        cross = module.cross(states)
        # Traced on 3 tokens after a cache of 3, so that no length is baked in as 0 or 1.
        example = torch.cat([prompt, torch.randint(100, 5000, (1, 6))], 1)
        _, cache = module(example[:, :3], cross, cross[:, :, :, :, :0])
        traced = torch.jit.trace_module(
            module, {"cross": (states,), "forward": (example[:, 3:6], cross, cache)},
            check_trace=False, strict=False)
        for rows in (1, 3):
            tokens = torch.cat([prompt.expand(rows, -1),
                                torch.randint(100, 5000, (rows, steps))], 1)
            grid = traced.cross(states).expand(-1, -1, rows, -1, -1, -1).contiguous()
            cache = grid[:, :, :, :, :0]
            start = prompt.size(1)
            for end in range(start, tokens.size(1) + 1):
                new = tokens[:, (0 if end == start else end - 1):end]
                got, cache = traced(new, grid, cache)
                want = reference(tokens[:, :end], states.expand(rows, -1, -1))
                if got.shape != want.shape or not torch.allclose(got, want, atol=atol, rtol=1e-3):
                    raise SystemExit(f"{path}: with its cache, the decoder's logits differ from "
                                     f"the whole sequence's at length {end}, {rows} rows")
            if cache.size(4) != tokens.size(1):
                raise SystemExit(f"{path}: the cache holds {cache.size(4)} positions, not "
                                 f"{tokens.size(1)}")
    torch.jit.save(traced, path)
    print(f"wrote {path}")


def split_heads(x, heads):
    """[rows, T, width] -> [rows, heads, T, head_dim]."""
    return x.view(x.size(0), x.size(1), heads, -1).transpose(1, 2)


def attend(q, k, v, causal=None):
    """Scaled dot-product attention over heads ([rows, heads, T, head_dim]),
    merged back to [rows, T, width]; `causal`: a bool mask [T, S], True
    where a query may not look."""
    scores = torch.matmul(q, k.transpose(2, 3)) * (q.size(-1) ** -0.5)
    if causal is not None:
        scores = scores.masked_fill(causal, float("-inf"))
    x = torch.matmul(scores.softmax(-1), v)
    return x.transpose(1, 2).reshape(x.size(0), x.size(2), -1)


def causal_mask(length, past, device):
    """True where query t (at position past + t) would see a later key."""
    queries = torch.arange(length, device=device) + past
    keys = torch.arange(past + length, device=device)
    return keys[None, :] > queries[:, None]


def backend_json(tokenizer):
    """The tokenizers library's JSON of a tokenizer it backs, or None."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return json.loads(backend.to_str()) if backend is not None else None


def added_vocab(tokenizer):
    """Token → id of the tokens added to the base vocabulary (specials)."""
    if hasattr(tokenizer, "get_added_vocab"):
        return dict(tokenizer.get_added_vocab())
    return {t["content"]: t["id"] for t in backend_json(tokenizer)["added_tokens"]}


def save_vocabulary(tokenizer, out, names):
    """The base vocabulary's files (`names`: vocab.json and merges.txt for
    BPE, vocab.txt for WordPiece), as save_vocabulary writes them; written
    from the tokenizers library's JSON when a version writes them otherwise."""
    tokenizer.save_vocabulary(out)
    if all(os.path.exists(os.path.join(out, name)) for name in names):
        return
    model = backend_json(tokenizer)["model"]
    if "vocab.txt" in names:
        with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
            f.writelines(t + "\n" for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]))
    else:
        write_json(os.path.join(out, "vocab.json"), model["vocab"])
        merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
        with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(m + "\n" for m in merges))


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
    print(f"wrote {path}")


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def write_model_toml(out, comment, backend, options, device):
    """model.toml for botmodels: the backend, the device, and [options]."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f'backend = "{backend}"', f'devices = ["{device}"]', "preload = true",
              "# Generation takes seconds: more than the default minute for long audio.",
              "timeout_ms = 600000", "", "[options]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in options.items()]
    path = os.path.join(out, "model.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}")
