import socket

from keras_chattn.utils import environment


def test_tuner_role(monkeypatch):
    monkeypatch.delenv(environment.TUNER_ID_VARIABLE, raising=False)
    assert environment.tuner_id() == "chief" and environment.is_tuner_chief()
    monkeypatch.setenv(environment.TUNER_ID_VARIABLE, "tuner0")
    assert environment.tuner_id() == "tuner0"
    assert not environment.is_tuner_chief()


def test_keras_home(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert environment.keras_home() == tmp_path
    monkeypatch.delenv("KERAS_HOME")
    assert environment.keras_home().name == ".keras"


def test_reachable_answers_quickly_both_ways():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        assert environment.reachable(server.getsockname(), timeout=2)
    # Port 9 (discard) on loopback: nothing listens, refused at once.
    assert not environment.reachable(("127.0.0.1", 9), timeout=2)


def test_tensorflow_available():
    import importlib.util

    installed = importlib.util.find_spec("tensorflow") is not None
    assert environment.tensorflow_available() is installed
