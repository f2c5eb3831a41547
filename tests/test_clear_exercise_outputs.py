"""tools.clear_exercise_outputs: exercise cells lose their outputs, nothing else changes."""

import nbformat
import pytest

from tools.clear_exercise_outputs import clear_exercise_outputs, main


def _notebook(path):
    notebook = nbformat.v4.new_notebook()
    output = nbformat.v4.new_output("stream", name="stdout", text="❌ try again\n")
    exercise = nbformat.v4.new_code_cell("check(answer)", execution_count=3, outputs=[output])
    exercise.metadata["tags"] = ["exercise", "nbval-ignore-output"]
    demo = nbformat.v4.new_code_cell("print(1)", execution_count=2, outputs=[output])
    notebook.cells = [nbformat.v4.new_markdown_cell("# t"), demo, exercise]
    nbformat.write(notebook, path)


def test_only_exercise_cells_are_cleared_and_a_second_run_changes_nothing(tmp_path):
    path = tmp_path / "01_x.ipynb"
    _notebook(path)
    assert clear_exercise_outputs(path) == 1
    cells = nbformat.read(path, as_version=4).cells
    assert cells[2].outputs == [] and cells[2].execution_count is None
    assert cells[2].metadata["tags"] == ["exercise", "nbval-ignore-output"]
    assert cells[1].outputs and cells[1].execution_count == 2
    before = path.read_bytes()
    assert clear_exercise_outputs(path) == 0
    assert path.read_bytes() == before


def test_the_command_refuses_a_missing_file_and_changes_nothing(tmp_path, capsys):
    path = tmp_path / "01_x.ipynb"
    _notebook(path)
    before = path.read_bytes()
    assert main([str(path), str(tmp_path / "nope.ipynb")]) == 2
    assert "nope.ipynb" in capsys.readouterr().err
    assert path.read_bytes() == before


@pytest.mark.parametrize("argv", [[]])
def test_the_command_needs_a_notebook(argv):
    assert main(argv) == 2
