#!/usr/bin/env python3
"""Turns a diffusers Stable Diffusion checkpoint (1.5, 2.x, SD-Turbo,
SDXL-Turbo, LCM distillations) or a text-to-video one (ModelScope /
Zeroscope, with --video) into a botmodels model folder:

  text_encoder.pt  ids int64 [B, 77] -> embeddings [B, 77, D]
                   (SDXL: a tuple, embeddings [B, 77, 2048] and pooled [B, 1280])
  denoiser.pt      (latents [B, 4, h, w] (video: [B, 4, frames, h, w]),
                   timesteps float32 [B], the text encoder's outputs) -> noise or v
  vae_decoder.pt   latents already divided by the VAE's scaling factor
                   [B, 4, h, w] -> pixels [B, 3, 8h, 8w] in [-1, 1]
  vocab.json, merges.txt   CLIP's byte-level BPE tokenizer
  model.toml       backend = "diffusion" (or "video_diffusion") and its
                   [options]: the scheduler_config.json schedule, sizes, steps

Run on a machine with PyTorch and diffusers (docs/models.md#diffusion):

  python3 tools/export/export_diffusion.py --model runwayml/stable-diffusion-v1-5 \\
      --out /var/lib/botmodels/models/sd15
  python3 tools/export/export_diffusion.py --model stabilityai/sd-turbo --turbo \\
      --out /var/lib/botmodels/models/sd-turbo
  python3 tools/export/export_diffusion.py --model stabilityai/sdxl-turbo --turbo \\
      --out /var/lib/botmodels/models/sdxl-turbo
  python3 tools/export/export_diffusion.py --model cerspense/zeroscope_v2_576w --video \\
      --out /var/lib/botmodels/models/zeroscope

Parts are traced in float32 (botmodels casts them to float16 on a GPU) and
checked against the model at a second size before they are written. With a
CUDA device, the activation memory per output pixel is measured and written
as memory_per_pixel (a larger request is refused with out_of_memory).
"""
import argparse
import math
import os

import torch
from diffusers import DiffusionPipeline

from export_common import trace, write_model_toml

CLIP_TOKENS = 77


class TextEncoder(torch.nn.Module):
    """SD 1.x/2.x: the last hidden state (SD 2.x configs already drop the last layer)."""

    def __init__(self, pipe):
        super().__init__()
        self.encoder = pipe.text_encoder

    def forward(self, ids):
        return self.encoder(input_ids=ids).last_hidden_state


class XlTextEncoder(torch.nn.Module):
    """SDXL: both encoders' penultimate states side by side, and the second's
    pooled projection. The second tokenizer pads with its own token after
    the first end token; the ids come padded for the first."""

    def __init__(self, pipe):
        super().__init__()
        self.one, self.two = pipe.text_encoder, pipe.text_encoder_2
        self.eos = pipe.tokenizer.eos_token_id
        self.pad_two = pipe.tokenizer_2.pad_token_id

    def forward(self, ids):
        is_end = (ids == self.eos).int()
        after_end = (is_end.cumsum(1) - is_end) > 0
        ids_two = ids.masked_fill(after_end, self.pad_two)
        one = self.one(input_ids=ids, output_hidden_states=True)
        two = self.two(input_ids=ids_two, output_hidden_states=True)
        return torch.cat([one.hidden_states[-2], two.hidden_states[-2]], -1), two.text_embeds


class Denoiser(torch.nn.Module):
    def __init__(self, pipe):
        super().__init__()
        self.unet = pipe.unet

    def forward(self, latents, timesteps, text):
        return self.unet(latents, timesteps, encoder_hidden_states=text, return_dict=False)[0]


class XlDenoiser(torch.nn.Module):
    """SDXL's added conditions: the pooled text and the size ids (original
    size, crop 0, 0, target size: the requested size, from the latents)."""

    def __init__(self, pipe):
        super().__init__()
        self.unet = pipe.unet
        self.factor = pipe.vae_scale_factor

    def forward(self, latents, timesteps, text, pooled):
        size = torch._shape_as_tensor(latents)[2:].to(latents.device) * self.factor
        ids = torch.cat([size, torch.zeros_like(size), size]).to(text.dtype)
        ids = ids.unsqueeze(0).repeat(latents.shape[0], 1)
        conditions = {"text_embeds": pooled, "time_ids": ids}
        return self.unet(latents, timesteps, encoder_hidden_states=text,
                         added_cond_kwargs=conditions, return_dict=False)[0]


class VaeDecoder(torch.nn.Module):
    def __init__(self, pipe):
        super().__init__()
        self.vae = pipe.vae

    def forward(self, latents):
        return self.vae.decode(latents, return_dict=False)[0]


def peak_bytes_per_pixel(parts, shapes, channels, text, device):
    """Peak activation bytes per output pixel of one step and the decode, in
    float16 on `device`, at two sizes; the larger of the slope and the
    mean, with a fifth to spare."""
    denoiser, vae = (p.to(device, torch.float16) for p in parts)
    text = [t.to(device, torch.float16) for t in text]
    peaks = []
    for frames, h, w in shapes:
        shape = [2, channels, frames, h, w] if frames else [2, channels, h, w]
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        with torch.no_grad():
            latents = torch.randn(shape, device=device, dtype=torch.float16)
            denoiser(latents, torch.full([2], 500.0, device=device), *text)
            images = latents[:1, :, 0] if frames else latents[:1]
            vae(images)
        pixels = (frames or 1) * h * w * 64
        peaks.append((torch.cuda.max_memory_allocated(device) - base, pixels))
    (p1, n1), (p2, n2) = peaks
    slope = (p2 - p1) / (n2 - n1)
    return int(math.ceil(max(slope, p2 / n2) * 1.2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="hub name or folder")
    parser.add_argument("--out", required=True, help="the model folder to write")
    parser.add_argument("--device", default="auto", help="model.toml's devices entry")
    parser.add_argument("--turbo", action="store_true",
                        help="adversarially distilled (SD-Turbo, SDXL-Turbo): 1-4 steps, "
                             "Euler ancestral on trailing timesteps, no guidance")
    parser.add_argument("--lcm", action="store_true",
                        help="a latent consistency model: 4-8 steps of the LCM sampler, "
                             "no guidance")
    parser.add_argument("--video", action="store_true", help="a text-to-video model (UNet3D)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    pipe = DiffusionPipeline.from_pretrained(args.model, torch_dtype=torch.float32)
    xl = getattr(pipe, "text_encoder_2", None) is not None
    factor = pipe.vae_scale_factor
    channels = pipe.unet.config.in_channels
    side = pipe.unet.config.sample_size
    side = side if isinstance(side, int) else side[0]

    ids = lambda text: pipe.tokenizer(  # noqa: E731
        text, padding="max_length", max_length=CLIP_TOKENS, truncation=True,
        return_tensors="pt").input_ids
    both = torch.cat([ids(""), ids("a red bicycle on a street")])
    encoder = XlTextEncoder(pipe) if xl else TextEncoder(pipe)
    # Ids are always 77: no second length to check against.
    trace(encoder, (both,), [], os.path.join(args.out, "text_encoder.pt"))
    with torch.no_grad():
        text = list(encoder(both)) if xl else [encoder(both)]
    assert text[0].shape[1] == CLIP_TOKENS

    frames = 8 if args.video else 0
    latent = lambda h, w: torch.randn(  # noqa: E731
        [2, channels, frames, h, w] if frames else [2, channels, h, w])
    t = torch.tensor([999.0, 999.0])
    denoiser = XlDenoiser(pipe) if xl else Denoiser(pipe)
    small = side // 2
    trace(denoiser, (latent(small, small), t, *text),
          [(latent(small, small + 8), torch.tensor([500.0, 500.0]), *text)],
          os.path.join(args.out, "denoiser.pt"), atol=1e-3)
    vae = VaeDecoder(pipe)
    trace(vae, (torch.randn(1, channels, 32, 32),), [(torch.randn(2, channels, 24, 40),)],
          os.path.join(args.out, "vae_decoder.pt"), atol=1e-3)

    pipe.tokenizer.save_vocabulary(args.out)  # vocab.json, merges.txt
    config = pipe.scheduler.config
    default = side * factor
    options = {
        "bos_token": pipe.tokenizer.bos_token,
        "eos_token": pipe.tokenizer.eos_token,
        "pad_token": pipe.tokenizer.pad_token,
        "latent_channels": channels,
        "vae_scale_factor": factor,
        "latent_scale": pipe.vae.config.scaling_factor,
        "train_timesteps": config.num_train_timesteps,
        "beta_start": config.beta_start,
        "beta_end": config.beta_end,
        "beta_schedule": config.beta_schedule,
        "prediction": config.prediction_type,
        "timestep_spacing": config.get("timestep_spacing", "leading"),
        "steps_offset": config.get("steps_offset", 0),
        "scheduler": "dpmpp_2m",
        "steps": 30,
        "guidance_scale": 7.5,
        "width": default,
        "height": default,
    }
    if args.turbo:  # SD-Turbo's and SDXL-Turbo's model cards: 1 step, guidance 0
        options.update(scheduler="euler_a", timestep_spacing="trailing", steps=1, max_steps=4,
                       guidance=False, width=512, height=512)
    if args.lcm:
        options.update(scheduler="lcm", steps=4, max_steps=8, guidance=False)
    if xl:
        options["dtype"] = "bfloat16"  # SDXL's VAE overflows in float16
    if args.video:
        # The Python service's video defaults: 24 frames at 8 fps, 50 steps.
        options.update(frames=24, fps=8, steps=50, vae_batch=8,
                       width=576 if default < 576 else default,
                       height=320 if default < 576 else default)
    if torch.cuda.is_available():
        shapes = [(frames, side // 2, side // 2), (frames, side, side)]
        options["memory_per_pixel"] = peak_bytes_per_pixel(
            (denoiser, vae), shapes, channels, text, "cuda")
    backend = "video_diffusion" if args.video else "diffusion"
    write_model_toml(args.out, f"{args.model}, exported by tools/export/export_diffusion.py",
                     backend, options, args.device)


if __name__ == "__main__":
    main()
