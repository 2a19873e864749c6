-- wrk's request for /api/infer/<model> (docs/performance.md, "Against the
-- Python stack"): the demo `double` model's 4 floats, or BOTMODELS_BODY. The
-- key comes from the environment, never the command line:
--   BOTMODELS_KEY=... wrk -t2 -c16 -d10s --latency -s bench/wrk_infer.lua \
--     http://127.0.0.1:8085/api/infer/double
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("BOTMODELS_KEY") or ""
wrk.body = os.getenv("BOTMODELS_BODY") or '{"inputs": {"x": [1, 2, 3, 4]}}'
