"""`corridor sandbox`: the real bot against the built-in emulator, played from a web page.

Several people's chats side by side, a clock one moves by hand and the demo's stories step
by step. Everything runs in this process on 127.0.0.1: no Telegram account, no internet."""
