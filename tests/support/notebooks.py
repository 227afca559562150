"""A step notebook made for a test: the parameters cell papermill fills, then the cells given."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

PARAMS = 'hu_path = ""\nenv = ""\noutput_dir = ""\nconfirm = ""'


def notebook(path: Path, *cells: str) -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
