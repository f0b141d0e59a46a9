"""The CloudEvents envelope and the published event contracts (``contracts/``)."""
