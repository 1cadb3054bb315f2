"""The endpoint's API as an OpenAPI 3.1 document (served at GET /openapi.json).

One home for the response shapes; tests validate the server's real responses against it.
"""
from __future__ import annotations

# The API's limits (textsort.frontends.server enforces them)
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_TEXTS = 1000
MAX_TOP_WORDS = 50


def _scores(labels: list[str]) -> dict:
    return {"type": "object", "description": "every label's probability",
            "properties": {lab: {"type": "number", "minimum": 0, "maximum": 1} for lab in labels},
            "required": list(labels), "additionalProperties": False}


def openapi_document(labels: list[str]) -> dict:
    label = {"type": "string", "enum": list(labels)}
    error = {"$ref": "#/components/schemas/Error"}
    errors = {str(code): {"description": why, "content": {"application/json": {"schema": error}}}
              for code, why in ((400, "bad JSON or fields, or an ambiguous length (two Host or Content-Length "
                                      "headers, Transfer-Encoding, a body on GET)"),
                                (403, "Host is not a loopback name"),
                                (408, "the request did not arrive whole in time"),
                                (411, "no numeric Content-Length"), (413, f"body over {MAX_BODY_BYTES} bytes, "
                                                                          "or too much text to explain"),
                                (500, "the model gave no usable score"), (503, "too many connections"))}

    def post(summary, request, response):
        return {"post": {"summary": summary,
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": {"$ref": f"#/components/schemas/{request}"}}}},
                         "responses": {"200": {"description": "classified", "content": {"application/json": {
                             "schema": {"$ref": f"#/components/schemas/{response}"}}}}, **errors}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "Textsort local endpoint", "version": "1",
                 "description": "Loopback only; no CORS. `textsort serve`."},
        "paths": {
            "/health": {"get": {"summary": "the loaded model", "responses": {"200": {
                "description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Health"}}}}}}},
            "/classify": post("classify one or more texts", "ClassifyRequest", "ClassifyResponse"),
            "/predict": post("classify one text (Flask model-serving style)", "PredictRequest", "PredictResponse"),
        },
        "components": {"schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
            "Health": {"type": "object", "required": ["ok", "model", "labels", "language"],
                       "properties": {"ok": {"const": True}, "model": {"type": "string"},
                                      "labels": {"type": "array", "items": {"type": "string"}},
                                      "language": {"type": ["string", "null"]}}},
            "ClassifyRequest": {"type": "object", "properties": {
                "text": {"type": "string"},
                "texts": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_TEXTS},
                "explain": {"type": "boolean", "default": False},
                "top_words": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_WORDS, "default": 5}},
                "oneOf": [{"required": ["text"]}, {"required": ["texts"]}]},
            "ClassifyResponse": {"type": "object", "required": ["model", "results"], "properties": {
                "model": {"type": "string"},
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}},
            "Result": {"type": "object", "additionalProperties": False,
                       "required": ["label", "confidence", "uncertain", "scores", "windows", "warning"],
                       "properties": {
                           "label": label, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                           "uncertain": {"type": "boolean"}, "scores": _scores(labels),
                           "windows": {"type": "integer", "minimum": 1},
                           "warning": {"type": ["string", "null"]},
                           "top_words": {"type": "array", "items": {
                               "description": "the deciding words (stop-words and punctuation left out, "
                                              "repeats merged), strongest first",
                               "type": "object", "required": ["text", "start", "end", "score", "label", "count"],
                               "properties": {"text": {"type": "string"}, "start": {"type": "integer"},
                                              "end": {"type": "integer"}, "score": {"type": "number"},
                                              "label": label, "count": {"type": "integer", "minimum": 1},
                                              "colour": {"type": "string", "pattern": "^#[0-9A-F]{6}$"}}}}}},
            "PredictRequest": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
            "PredictResponse": {"type": "object", "required": ["label", "probability", "scores"],
                                "additionalProperties": False,
                                "properties": {"label": label,
                                               "probability": {"type": "number", "minimum": 0, "maximum": 1},
                                               "scores": _scores(labels)}},
        }},
    }
