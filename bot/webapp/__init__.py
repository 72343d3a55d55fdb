"""The coordinators' dashboard: a Telegram Mini App served by the bot itself."""
