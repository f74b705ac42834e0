"""The shipped signal models: ``NAME.onnx`` with its cards ``NAME.json`` and ``NAME.md`` (data only).

A package so that an installed app finds the files with ``importlib.resources``; see README.md.
"""
