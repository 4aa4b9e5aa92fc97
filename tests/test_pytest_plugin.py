"""The pytest plugin, tested as users meet it: inner test files run by pytester in
a subprocess, with the plugin loaded from its pytest11 entry point."""

from __future__ import annotations

import json

import pytest

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_fixture_with_sync_and_async_openai_clients(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        from openai import AsyncOpenAI, OpenAI

        def test_sync(mockserver):
            name = mockserver.add({"stream": [{"text": "sync hi", "split": "words"}]})
            client = OpenAI(base_url=mockserver.url_for(name) + "/v1", api_key="k")
            chunks = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}], stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in chunks) == "sync hi"
            assert mockserver.openai_url == mockserver.url + "/v1"
            assert mockserver.url.startswith("http://127.0.0.1:")

        async def test_async(mockserver):
            mockserver.add("name: a\\nstream: [{text: async hi}]")
            mockserver.use("a")
            client = AsyncOpenAI(base_url=mockserver.openai_url, api_key="k")
            stream = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}], stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            assert text == "async hi"
            await client.close()

        def test_reset_between_tests(mockserver):
            assert mockserver.requests == []  # the two tests above left nothing behind
            import httpx
            assert httpx.get(mockserver.url_for("a") + "/v1/x").status_code == 404
        """
    )
    result = inner.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_marker_and_ini_options(inner: pytest.Pytester) -> None:
    scenarios = inner.mkdir("mocks")
    (scenarios / "greet.yaml").write_text("timing: {first: 1s}\nstream: [{text: hello from a file}]\n")
    (scenarios / "seeded.yaml").write_text("stream: [{fake: sentence}]\n")
    inner.makeini(INI + "mockserver_scenarios = mocks\nmockserver_time_scale = 0\n")
    inner.makepyfile(
        """
        import time
        import pytest
        from openai import OpenAI

        def ask(server):
            client = OpenAI(base_url=server.openai_url, api_key="k")
            reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
            return reply.choices[0].message.content

        @pytest.mark.mockserver(scenario="greet")
        def test_ini_time_scale_zero(mockserver):
            started = time.monotonic()
            assert ask(mockserver) == "hello from a file"
            assert time.monotonic() - started < 0.5  # `first: 1s`, scaled by 0

        @pytest.mark.mockserver(scenario="greet", time_scale=0.2)
        def test_marker_wins_over_ini(mockserver):
            started = time.monotonic()
            assert ask(mockserver) == "hello from a file"
            assert 0.15 < time.monotonic() - started < 1.0

        @pytest.mark.mockserver(scenario="seeded", seed=1)
        def test_seed_one(mockserver, request):
            request.config.cache_seed_1 = ask(mockserver)

        @pytest.mark.mockserver(scenario="seeded", seed=2)
        def test_seed_two(mockserver, request):
            assert ask(mockserver) != request.config.cache_seed_1

        @pytest.mark.mockserver(strict=False)
        def test_not_strict_means_the_auto_responder(mockserver):
            assert len(ask(mockserver).split()) > 3
        """
    )
    result = inner.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_marker_is_registered_and_strict(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.mockserver(scenaro="x")
        def test_typo(mockserver):
            pass
        """
    )
    result = inner.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*got unknown argument(s) scenaro; allowed: scenario, time_scale, seed*"])
    markers = inner.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(
        ["@pytest.mark.mockserver(scenario=None, time_scale=None, seed=None, strict=None):*"]
    )


def test_a_server_side_failure_fails_the_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import openai
        import pytest
        from openai import OpenAI

        @pytest.mark.mockserver(strict=False)  # the auto-responder's plan breaks
        def test_server_breaks(mockserver, monkeypatch):
            import mockserver.server.plans as plans

            def broken(*args, **kwargs):
                raise RuntimeError("the renderer broke")

            monkeypatch.setattr(plans, "plan_response", broken)
            client = OpenAI(base_url=mockserver.openai_url, api_key="k", max_retries=0)
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])

        def test_next_test_is_clean(mockserver):
            assert mockserver.take_failures() == []
        """
    )
    result = inner.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_server_breaks*", "*RuntimeError: the renderer broke*"]
    )
    result.stdout.fnmatch_lines(["*in _answer*"])  # the server-side traceback is shown


def test_adding_a_bad_scenario_raises_with_its_key_path(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest
        from mockserver import ScenarioErrors

        def test_bad(mockserver):
            with pytest.raises(ScenarioErrors) as caught:
                mockserver.add({"name": "bad", "stream": [{"tool_call": {"name": "f", "argments": {}}}]})
            assert "stream[0].tool_call.argments: unknown key 'argments' (did you mean 'arguments'?)" in str(caught.value)
        """
    )
    inner.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_xdist_workers_each_have_their_own_server(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(
        """
        import json, os, pathlib
        import pytest
        from openai import OpenAI

        @pytest.mark.parametrize("n", range(6))
        def test_port(mockserver, n, tmp_path_factory):
            name = mockserver.add({"name": "seq", "responses": [{"stream": [{"text": "1"}]}, {"stream": [{"text": "2"}]}]})
            client = OpenAI(base_url=mockserver.url_for(name) + "/v1", api_key="k")
            ask = lambda: client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}]).choices[0].message.content
            assert [ask(), ask()] == ["1", "2"]  # each test starts its own sequence
            out = pathlib.Path(os.environ["PORTS_DIR"]) / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{n}"
            out.write_text(json.dumps([os.environ.get("PYTEST_XDIST_WORKER"), mockserver.port]))
        """
    )
    ports_dir = inner.mkdir("ports")
    monkeypatch.setenv("PORTS_DIR", str(ports_dir))
    result = inner.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    seen = {tuple(json.loads(p.read_text())) for p in ports_dir.iterdir()}
    workers = {worker for worker, _ in seen}
    ports = {port for _, port in seen}
    assert workers == {"gw0", "gw1"} and len(ports) == 2


def test_a_project_that_runs_with_warnings_as_errors(inner: pytest.Pytester) -> None:
    # Many projects set `filterwarnings = error`: starting the fixture's server, and
    # using every route, must not warn.
    inner.makeini(INI + "filterwarnings = error\n")
    inner.makepyfile(
        """
        import pytest
        from openai import OpenAI

        @pytest.mark.mockserver(strict=False)  # the auto-responder answers
        def test_models_and_a_stream(mockserver):
            client = OpenAI(base_url=mockserver.openai_url, api_key="k", max_retries=0)
            assert "gpt-4o" in [m.id for m in client.models.list()]
            stream = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}], stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in stream)
            client.close()
        """
    )
    result = inner.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)


def test_strict_by_default_a_miss_fails_the_test_with_its_reasons(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import openai
        import pytest
        from openai import OpenAI

        AGENT = "name: weather-agent\\nmatch: {text: '(?i)weather', model: 'gpt-*'}\\nstream: [{text: sunny}]"

        def test_miss(mockserver):
            mockserver.add(AGENT)
            client = OpenAI(base_url=mockserver.openai_url, api_key="k", max_retries=0)
            with pytest.raises(openai.NotFoundError):
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
            client.close()

        def test_hit_then_all_used(mockserver):
            mockserver.add(AGENT)
            client = OpenAI(base_url=mockserver.openai_url, api_key="k", max_retries=0)
            reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Weather?"}])
            assert reply.choices[0].message.content == "sunny"
            mockserver.assert_all_used()
            client.close()

        def test_never_used(mockserver):
            mockserver.add(AGENT)
            mockserver.add("name: spare\\nstream: [{text: x}]")
            with pytest.raises(AssertionError, match="never requested: weather-agent, spare"):
                mockserver.assert_all_used()

        @pytest.mark.mockserver(strict=False)
        def test_not_strict(mockserver):
            client = OpenAI(base_url=mockserver.openai_url, api_key="k", max_retries=0)
            assert client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}]).choices
            client.close()
        """
    )
    result = inner.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=1)  # test_miss passed, then failed at teardown
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_miss*",
            "*mockserver (strict): no scenario answers POST /v1/chat/completions. weather-agent: "
            "text '(?i)weather' not found in last user message 'hello'*",
        ]
    )
