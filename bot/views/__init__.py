"""The view layer: what a person reads and taps, rendered from a domain result and a
language. Buttons are declared once, in ``buttons``, as aiogram ``CallbackData``."""
