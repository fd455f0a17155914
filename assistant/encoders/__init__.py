"""Encoders: the embedding model, built offline from a registry package and run by onnxruntime (or
torch), behind the `Encoder` seam."""
