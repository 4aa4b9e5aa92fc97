"""Pure rendering: (scenario response, request) → the exact bytes and their schedule.

No I/O and no clock here, so `mockserver show` and the server agree byte for byte.
"""

from .anthropic import AnthropicApi
from .api import Api
from .azure import AzureApi
from .bedrock import BedrockApi
from .chat import ChatApi
from .completions import CompletionsApi
from .embeddings import EmbeddingsApi
from .gemini import GeminiApi
from .ollama import OllamaApi
from .plan import Plan, Write
from .raw import RawApi
from .request import ApiRequest, BadRequest
from .respond import plan_response
from .responses import ResponsesApi

APIS: dict[str, Api] = {
    "chat": ChatApi(),
    "responses": ResponsesApi(),
    "anthropic": AnthropicApi(),
    "completions": CompletionsApi(),
    "embeddings": EmbeddingsApi(),
    "ollama": OllamaApi(),
    "raw": RawApi(),
    "gemini": GeminiApi(),
    "bedrock": BedrockApi(),
    "azure": AzureApi(),
}

__all__ = ["APIS", "Api", "ApiRequest", "BadRequest", "Plan", "Write", "plan_response"]
