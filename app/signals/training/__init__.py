"""Builds the shipped signal model from the shared candles (needs the ``train`` extra).

Never imported by the app at run time: scikit-learn and skl2onnx are only installed with
``pip install -e ".[train]"``. ``python -m app signals train`` runs :func:`build.build`.
"""
