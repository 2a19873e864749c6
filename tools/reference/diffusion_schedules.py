#!/usr/bin/python3
"""Reference numbers for tests/unit/diffusion_test.cc: noise schedules,
sampling plans and one step of each sampler, computed with numpy from the
published formulas in the form diffusers' schedulers write them
(EulerDiscrete, EulerAncestralDiscrete, DPMSolverMultistep with
algorithm_type="dpmsolver++", solver_order=2, and LCMScheduler).

DPM-Solver++(2M) and the LCM step are computed here in the
variance-preserving form (alpha_t, sigma_t, lambda_t), as the papers and
diffusers write them, and mapped back to x = x0 + sigma * noise: the C++
computes them in that variance-exploding form, so the two derivations
check each other. Run:
  /usr/bin/python3 tools/reference/diffusion_schedules.py > tests/fixtures/diffusion_schedules.json
"""
import json
import math

import numpy as np


def betas_for(config):
    n, start, end = config["train_timesteps"], config["beta_start"], config["beta_end"]
    if config["beta_schedule"] == "linear":
        return np.linspace(start, end, n, dtype=np.float64)
    if config["beta_schedule"] == "scaled_linear":
        return np.linspace(start ** 0.5, end ** 0.5, n, dtype=np.float64) ** 2
    alpha_bar = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    return np.array([min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)])


def sigma_to_t(sigma, log_sigmas):
    log_sigma = np.log(max(sigma, 1e-10))
    dists = log_sigma - log_sigmas
    low = int(np.cumsum(dists >= 0).argmax())
    low = min(low, len(log_sigmas) - 2)
    w = (log_sigmas[low] - log_sigma) / (log_sigmas[low] - log_sigmas[low + 1])
    w = min(max(w, 0.0), 1.0)
    return (1 - w) * low + w * (low + 1)


def plan(config, steps, karras):
    n = config["train_timesteps"]
    alphas_cumprod = np.cumprod(1 - betas_for(config))
    train_sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
    spacing = config["timestep_spacing"]
    if spacing == "linspace":
        timesteps = np.linspace(0, n - 1, steps, dtype=np.float64)[::-1].copy()
    elif spacing == "leading":
        ratio = n // steps
        timesteps = (np.arange(0, steps) * ratio).round()[::-1].astype(np.float64)
        timesteps += config["steps_offset"]
    else:
        ratio = n / steps
        timesteps = np.arange(n, 0, -ratio).round().astype(np.float64) - 1
    sigmas = np.interp(timesteps, np.arange(0, n), train_sigmas)
    if karras:
        rho = 7.0
        ramp = np.linspace(0, 1, steps)
        lo, hi = sigmas[-1] ** (1 / rho), sigmas[0] ** (1 / rho)
        sigmas = (hi + ramp * (lo - hi)) ** rho
        log_sigmas = np.log(train_sigmas)
        timesteps = np.array([sigma_to_t(s, log_sigmas) for s in sigmas])
    initial = (sigmas.max() ** 2 + 1) ** 0.5 if spacing == "leading" else sigmas.max()
    return {"timesteps": timesteps.tolist(), "sigmas": sigmas.tolist() + [0.0],
            "initial_sigma": float(initial)}


def lcm_plan(config, steps, original=50):
    n = config["train_timesteps"]
    alphas_cumprod = np.cumprod(1 - betas_for(config))
    k = n // original
    origin = (np.arange(1, original + 1) * k - 1)[::-1]
    indices = np.floor(np.linspace(0, original, num=steps, endpoint=False)).astype(np.int64)
    timesteps = origin[indices]
    sigmas = [math.sqrt((1 - alphas_cumprod[t]) / alphas_cumprod[t]) for t in timesteps]
    return {"timesteps": [float(t) for t in timesteps], "sigmas": sigmas + [0.0],
            "initial_sigma": math.sqrt(sigmas[0] ** 2 + 1)}


# A fixed sample, two clean estimates and noise, 8 values each.
X = np.array([0.9, -1.3, 2.2, 0.1, -0.4, 1.7, -2.5, 0.6])
DENOISED = [np.array([0.2, -0.5, 0.8, 0.0, -0.1, 0.6, -0.9, 0.3]),
            np.array([0.25, -0.45, 0.7, 0.05, -0.15, 0.55, -0.8, 0.2])]
NOISE = np.array([-0.3, 1.1, 0.4, -1.6, 0.7, -0.2, 1.9, -0.8])


def euler(sigmas, i, x, d):
    return x + (x - d) / sigmas[i] * (sigmas[i + 1] - sigmas[i])


def euler_a(sigmas, i, x, d):
    s, t = sigmas[i], sigmas[i + 1]
    up = (t ** 2 * (s ** 2 - t ** 2) / s ** 2) ** 0.5
    down = (t ** 2 - up ** 2) ** 0.5
    return x + (x - d) / s * (down - s) + (NOISE * up if t > 0 else 0)


def vp(sigma):  # alpha_t, sigma_t of a VE sigma
    alpha = 1 / math.sqrt(sigma ** 2 + 1)
    return alpha, sigma * alpha


def dpmpp_2m(sigmas, x, estimates):
    """Two steps from x (VE), diffusers' multistep update in VP form."""
    out = []
    sample = x * vp(sigmas[0])[0]
    for i, m0 in enumerate(estimates):
        a_s, s_s = vp(sigmas[i])
        if sigmas[i + 1] == 0:
            sample = m0
            out.append(sample)
            continue
        a_t, s_t = vp(sigmas[i + 1])
        lam_t, lam_s = math.log(a_t) - math.log(s_t), math.log(a_s) - math.log(s_s)
        h = lam_t - lam_s
        if i == 0:
            sample = (s_t / s_s) * sample - a_t * (math.exp(-h) - 1.0) * m0
        else:
            a_p, s_p = vp(sigmas[i - 1])
            h_0 = lam_s - (math.log(a_p) - math.log(s_p))
            r0 = h_0 / h
            d0, d1 = m0, (1.0 / r0) * (m0 - estimates[i - 1])
            sample = (s_t / s_s) * sample - a_t * (math.exp(-h) - 1.0) * d0 \
                - 0.5 * a_t * (math.exp(-h) - 1.0) * d1
        out.append(sample / a_t)  # back to VE
    return out


def lcm_step(p, config, i, x, d):
    alphas_cumprod = np.cumprod(1 - betas_for(config))
    t = int(p["timesteps"][i])
    sample = x / math.sqrt(p["sigmas"][i] ** 2 + 1)  # VP
    scaled = t * 10.0
    c_skip = 0.25 / (scaled ** 2 + 0.25)
    c_out = scaled / (scaled ** 2 + 0.25) ** 0.5
    denoised = c_out * d + c_skip * sample
    if i + 1 == len(p["timesteps"]):
        return denoised
    a_prev = alphas_cumprod[int(p["timesteps"][i + 1])]
    prev = math.sqrt(a_prev) * denoised + math.sqrt(1 - a_prev) * NOISE
    return prev / math.sqrt(a_prev)  # back to VE


SD15 = {"train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "timestep_spacing": "leading", "steps_offset": 1}
TURBO = dict(SD15, timestep_spacing="trailing", steps_offset=0)
LINEAR = {"train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
          "beta_schedule": "linear", "timestep_spacing": "linspace", "steps_offset": 0}
COSINE = dict(LINEAR, beta_schedule="squaredcos_cap_v2", timestep_spacing="leading",
              steps_offset=1)

plans = []
for name, config, steps, karras in [("sd15-30", SD15, 30, False), ("sd15-20-karras", SD15, 20, True),
                                    ("turbo-1", TURBO, 1, False), ("turbo-4", TURBO, 4, False),
                                    ("linear-linspace-10", LINEAR, 10, False),
                                    ("cosine-25", COSINE, 25, False),
                                    ("cosine-12-karras", COSINE, 12, True)]:
    plans.append(dict(name=name, config=config, steps=steps, karras=karras, lcm=False,
                      **plan(config, steps, karras)))
for steps in (4, 8):
    plans.append(dict(name=f"lcm-{steps}", config=SD15, steps=steps, karras=False, lcm=True,
                      **lcm_plan(SD15, steps)))

karras = plan(SD15, 20, True)["sigmas"]
last = [karras[-3], karras[-2], 0.0]  # the final two steps: second order, then onto zero
lcm4 = lcm_plan(SD15, 4)
x1_euler = euler(karras, 0, X, DENOISED[0])
x1_euler_a = euler_a(karras, 0, X, DENOISED[0])
steps = {
    "sigmas": karras[:3], "last_sigmas": last, "lcm_plan": lcm4,
    "x": X.tolist(), "denoised": [d.tolist() for d in DENOISED], "noise": NOISE.tolist(),
    "euler": [x1_euler.tolist(), euler(karras, 1, x1_euler, DENOISED[1]).tolist()],
    "euler_a": [x1_euler_a.tolist(), euler_a(karras, 1, x1_euler_a, DENOISED[1]).tolist()],
    "dpmpp_2m": [s.tolist() for s in dpmpp_2m(karras[:3], X, DENOISED)],
    "dpmpp_2m_last": [s.tolist() for s in dpmpp_2m(last, X, DENOISED)],
    "lcm": [lcm_step(lcm4, SD15, 0, X, DENOISED[0]).tolist(),
            lcm_step(lcm4, SD15, 3, X, DENOISED[1]).tolist()],
}
train = np.cumprod(1 - betas_for(SD15))
print(json.dumps({"plans": plans, "steps": steps,
                  "sd15_alphas_cumprod": {str(t): float(train[t]) for t in (0, 1, 499, 999)}},
                 indent=1))
