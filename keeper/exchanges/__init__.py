"""Exchange adapters: one module per exchange behind ``ExchangeAdapter`` (see ``registry``)."""
