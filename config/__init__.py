"""Gradeloop configuration: one `Config` built from `GRADELOOP_*` environment variables."""
from config.settings import Config, load_config

__all__ = ["Config", "load_config"]
