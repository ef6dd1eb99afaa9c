"""The data scientists' notebook runs top to bottom on the real data (reduced configuration).

``TUNEWAVE_NOTEBOOK_QUICK=1`` makes the notebook use 2 folds and five model families instead
of 5 folds and seven, and fewer diversity knobs; everything else (data, leak-free features,
models, evaluation code, plots, the benchmark tables it reads) is the same as a full run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "evaluate_recommenders.ipynb"


@pytest.mark.timeout(300)
def test_evaluate_recommenders_notebook_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEWAVE_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code_cells), "every code cell shows something"
    text = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for cell in code_cells
        for output in cell.outputs
    )
    assert "quick=True folds=2" in text
    assert "1,892 users, 17,632 artists" in text
    for model in ("popularity", "content", "ease", "rp3beta", "hybrid"):
        assert model in text
    assert "fold 0 may use" in text  # side information built from the fold's training part
    assert "cold test pairs in a top-10" in text
    assert "friends in top-10" in text
    images = [
        output
        for cell in code_cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == 3  # metrics, accuracy vs coverage (MMR knob), people
    assert "you both play" in text  # people with reasons
