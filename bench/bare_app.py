"""The baseline for bench/rest.py: the smallest FastAPI JSON endpoint, served the same way."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    return {"status": "ok"}
