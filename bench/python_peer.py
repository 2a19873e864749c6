"""The Python stack botmodels replaces, for `botmodels bench --parts python`.

FastAPI on uvicorn (uvloop, httptools, two worker processes) with torch,
answering the gateway's POST /api/infer/{model} for one TorchScript model as
the Python botmodels service would: the X-API-Key checked, the JSON body
parsed into a tensor, the model run, the outputs returned as the gateway
returns them. Run as a script by the bench (bench/python_peer.cc), which
binds the listening socket itself and passes it down. Settings come from the
environment, never the command line: BOTMODELS_PEER_FD (the bound socket),
BOTMODELS_PEER_MODEL (the .pt file), BOTMODELS_PEER_NAME (its name in the
path), BOTMODELS_PEER_KEY (the API key).
"""
import os
import socket

import torch
from fastapi import FastAPI, Header, HTTPException, Request

app = FastAPI()
model = None


@app.on_event("startup")
def load():
    global model
    torch.set_num_threads(1)  # two worker processes share the machine's cores
    model = torch.jit.load(os.environ["BOTMODELS_PEER_MODEL"]).eval()


@app.get("/health")
def health():
    return {"status": "healthy"}


@app.post("/api/infer/{name}")
async def infer(name: str, request: Request, x_api_key: str = Header(default="")):
    if x_api_key != os.environ["BOTMODELS_PEER_KEY"]:
        raise HTTPException(status_code=401, detail="Invalid API key")
    if name != os.environ["BOTMODELS_PEER_NAME"]:
        raise HTTPException(status_code=404, detail="unknown model")
    body = await request.json()
    x = torch.tensor(body["inputs"]["x"], dtype=torch.float32)
    with torch.inference_mode():
        y = model(x)
    return {"outputs": {"y": {"data": y.tolist(), "dtype": "float32", "shape": list(y.shape)}}}


if __name__ == "__main__":
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    # The bench's socket, bound to a port of the system's choosing.
    sock = socket.socket(fileno=int(os.environ["BOTMODELS_PEER_FD"]))
    module = os.path.splitext(os.path.basename(__file__))[0]
    config = uvicorn.Config(f"{module}:app", loop="uvloop", http="httptools", workers=2,
                            access_log=False, log_level="warning")
    server = uvicorn.Server(config)
    Multiprocess(config, target=server.run, sockets=[sock]).run()
