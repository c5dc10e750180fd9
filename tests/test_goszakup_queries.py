"""The GraphQL the spider sends is valid against the real goszakup schema, operation and variables alike;
and every registered spider builds its first request without touching the network (kingfisher style)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from scrapy import Request
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.test import get_crawler

import crawlers.settings
from crawlers.spiders.base import load_operations
from crawlers.spiders.goszakup import GoszakupSpider
from entities.config import REFERENCE_DIR
from entities.db import make_engine
from entities.migrate import upgrade

QUERIES = Path(crawlers.settings.__file__).parent / "queries" / "goszakup.graphql"
SCHEMA_FILE = REFERENCE_DIR / "goszakup" / "schema.graphql"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOSZAKUP_TOKEN", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("ASHYQ_GOSZAKUP_URL", "http://127.0.0.1:9")


def _settings() -> dict[str, Any]:
    return {k: v for k, v in vars(crawlers.settings).items() if k.isupper()}


def _spider(cls: type, **args: str) -> Any:
    crawler = get_crawler(cls, _settings())
    spider = cls.from_crawler(crawler, **args)
    crawler.spider = spider
    return spider


def _start(spider: Any) -> list[Any]:
    async def collect() -> list[Any]:
        return [x async for x in spider.start()]

    return asyncio.run(collect())


def _operation_names() -> list[str]:
    return list(load_operations(QUERIES))


@pytest.mark.parametrize("name", _operation_names())
def test_operation_validates_against_the_real_schema(schema: GraphQLSchema, name: str) -> None:
    operation = load_operations(QUERIES)[name]
    document = parse(operation.text)
    assert validate(schema, document) == []
    definition = document.definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    declared = {v.variable.name.value for v in definition.variable_definitions}
    assert declared == {"filter", "limit", "after"}  # the cursor-paging contract of the base spider
    root = schema.query_type.fields[operation.root]  # type: ignore[union-attr]
    assert isinstance(root.type, GraphQLList)  # a list root, paged by extensions.pageInfo


def test_the_whole_document_validates(schema: GraphQLSchema) -> None:
    assert validate(schema, parse(QUERIES.read_text(encoding="utf-8"))) == []


def test_spider_sends_exactly_the_operations_of_the_file() -> None:
    assert set(GoszakupSpider.record_types) == set(_operation_names())
    assert {fetch.operation for fetch in GoszakupSpider.key_fetches.values()} <= set(_operation_names())


def test_record_id_fields_are_selected(schema: GraphQLSchema) -> None:
    operations = load_operations(QUERIES)
    for name, (_, id_field) in GoszakupSpider.record_types.items():
        root_type = get_named_type(schema.query_type.fields[operations[name].root].type)  # type: ignore[union-attr]
        assert id_field in root_type.fields  # type: ignore[union-attr]
        definition = parse(operations[name].text).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        root_field = definition.selection_set.selections[0]
        assert isinstance(root_field, FieldNode)
        assert root_field.selection_set is not None
        selected = {f.name.value for f in root_field.selection_set.selections if isinstance(f, FieldNode)}
        assert id_field in selected, f"{name} must select {id_field}: it is the record's external id"


def _all_requests() -> list[Request]:
    """A request of every shape the spider can send: each unit kind, each key batch kind, each mode."""
    requests: list[Request] = []
    for args in (
        {"since": "2024-01-01", "until": "2024-02-15", "today": "2024-04-01"},
        {"supplier": "190340012000", "since": "2024-01-01", "until": "2024-02-15", "today": "2024-04-01"},
        {"customer": "170540002007", "today": "2024-04-01"},
    ):
        spider = _spider(GoszakupSpider, **args)
        requests += _start(spider)
        uid = spider.plan_units()[0]
        for kind in spider.key_fetches:
            spider.need([uid], kind, [5501, 5502])
        requests += [r for r in spider._flush(force=True) if isinstance(r, Request)]
    return requests


def test_every_request_the_spider_builds_has_variables_valid_for_the_schema(schema: GraphQLSchema) -> None:
    operations = load_operations(QUERIES)
    requests = _all_requests()
    seen = set()
    for request in requests:
        sent = json.loads(request.body)
        operation = operations[sent["operationName"]]
        assert sent["query"] == operation.text
        definition = parse(sent["query"]).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        coerced = get_variable_values(schema, definition.variable_definitions, sent["variables"])
        assert not isinstance(coerced, list), f"{sent['operationName']} {sent['variables']}: {coerced}"
        assert sent["variables"]["limit"] == 200
        seen.add((sent["operationName"], tuple(sorted((sent["variables"].get("filter") or {}).keys()))))
    # Every filter combination the spider uses was exercised above.
    assert seen >= {
        ("Contracts", ("signDate",)),
        ("Contracts", ("refContractTypeId", "signDate")),
        ("Contracts", ("id",)),
        ("Contracts", ("signDate", "supplierBiin")),
        ("Contracts", ("customerBin",)),
        ("TrdApps", ("dateApply",)),
        ("TrdApps", ("dateApply", "supplierBinIin")),
        ("TrdApps", ("buyId",)),
        ("TrdBuys", ("id",)),
        ("Subjects", ("pid",)),
        ("Rnu", ()),
        ("Rnu", ("supplierBiin",)),
    }


def _registered_spiders() -> list[str]:
    settings = Settings()
    settings.setmodule("crawlers.settings")
    return sorted(get_spider_loader(settings).list())


@pytest.mark.parametrize("name", _registered_spiders())
def test_every_spider_builds_its_first_request_without_the_network(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Some spiders read their work list from the database (statgov: BINs seen); never the repository's own.
    db_url = f"sqlite:///{tmp_path / 'first.sqlite'}"
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("ASHYQ_DATABASE_URL", db_url)
    settings = Settings()
    settings.setmodule("crawlers.settings")
    cls = get_spider_loader(settings).load(name)
    token_env = getattr(cls, "token_env", None)
    if token_env:
        monkeypatch.setenv(token_env, "0" * 32)
    spider = _spider(cls, **getattr(cls, "sample_args", {}))

    async def first() -> Any:
        return await anext(aiter(spider.start()))

    request = asyncio.run(first())
    assert isinstance(request, Request)
    assert request.url.startswith("http")
