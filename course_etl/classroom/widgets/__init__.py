"""Widget panels for the notebooks: thin ipywidgets front ends over tested functions.

One module per notebook (``widgets.loads`` for notebook 01, …). A panel is a function that takes
its connection and data as arguments and returns a widget; callbacks read no globals, so pytest can
build a panel, set values, call ``.click()`` and assert on what changed.
"""
