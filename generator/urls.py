"""Site paths: the one place that says where each output lives. Pure, imports nothing of the site.

A site path starts at the site's root ('/models/llama-3.1-8b/'); ``templating.make_url_for`` puts
the base URL's path in front of it when a page links to it.
"""

from __future__ import annotations

HOME = "/"
MODELS = "/models/"
GPUS = "/gpus/"
GUIDES = "/guides/"
CALCULATOR = "/calculator/"
API = "/api/"
API_CATALOG = "/api/catalog.json"
CALCULATOR_DATA = "/api/calculator.json"


def model_path(model: str) -> str:
    """A model's page: '/models/<model>/'."""
    return f"/models/{model}/"


def gpu_path(gpu: str) -> str:
    """A GPU's page: '/gpus/<gpu>/'."""
    return f"/gpus/{gpu}/"


def pair_path(model: str, gpu: str) -> str:
    """A model on one GPU: '/models/<model>/on/<gpu>/'."""
    return f"/models/{model}/on/{gpu}/"


def calculator_query(model: str, gpu: str) -> str:
    """The calculator filled in with a model and a GPU: '/calculator/?model=<model>&gpu=<gpu>'."""
    return f"{CALCULATOR}?model={model}&gpu={gpu}"


def api_model_path(model: str) -> str:
    """A model's JSON file: '/api/models/<model>.json'."""
    return f"/api/models/{model}.json"


def content_path(section: str | None, slug: str) -> str:
    """A Markdown page: '/<section>/<slug>/', or '/<slug>/' outside a section."""
    return f"/{section}/{slug}/" if section else f"/{slug}/"
