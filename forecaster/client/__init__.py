"""The Python client of the Forecaster service: DataFrames in and out, progress bars.

>>> from forecaster.client import Client
>>> fc = Client()                       # FORECASTER_URL, FORECASTER_API_KEY
>>> fc.forecast(model="demand@production", dataset="demand", horizon=24)

It needs only httpx, pandas, pyarrow and tqdm (no torch at call time).
"""

from forecaster.client.client import Client
from forecaster.client.errors import (
    AuthenticationError,
    ConflictError,
    FieldError,
    ForecasterAPIError,
    GoneError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    UnavailableError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from forecaster.client.jobs import Job

__all__ = [
    "AuthenticationError",
    "Client",
    "ConflictError",
    "FieldError",
    "ForecasterAPIError",
    "GoneError",
    "Job",
    "JobFailedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ServerError",
    "UnavailableError",
    "UnsupportedMediaTypeError",
    "ValidationError",
]
