"""Features, indicators and ONNX signal models."""
