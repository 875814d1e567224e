"""The SQS adapter sends ten messages a call and answers the ones SQS did not take (no AWS)."""

from relance import queues


def test_every_body_is_sent_ten_a_call_and_the_refused_ones_come_back(monkeypatch):
    calls = []

    class Recorder:
        def send_message_batch(self, QueueUrl, Entries):
            calls.append([e["MessageBody"] for e in Entries])
            return {"Failed": [{"Id": "1"}]} if len(calls) == 2 else {}

    monkeypatch.setattr(queues, "client", lambda service: Recorder())
    bodies = [f"body-{i}" for i in range(23)]

    refused = queues.send_all("https://sqs.example/nudges", bodies)

    assert [len(c) for c in calls] == [10, 10, 3]
    assert [b for c in calls for b in c] == bodies
    assert refused == ["body-11"]
