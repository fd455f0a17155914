"""Storage: the contract (`base`), one module per backend, and the factory that picks one from settings."""
