"""The real Gradio app on a free local port, asked through gradio_client."""

import pytest
from gradio_client import Client

from assistant.ui import build
from tests.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_url(assistant):
    demo = build(assistant).queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_ask_through_gradio_client(app_url):
    client = Client(app_url, verbose=False)
    answer = client.predict("When is the next Security Implementation Group meeting?", api_name="/ask")
    assert "23 de enero" in answer["answer"]
    assert answer["citations"] and answer["citations"][0]["quote"] in answer["answer"]


def test_bad_input_through_gradio_client_is_a_message(app_url):
    client = Client(app_url, verbose=False)
    assert "Please type a question" in client.predict("   ", api_name="/ask")["error"]
    assert "too long" in client.predict("a" * 2001, api_name="/ask")["error"]
