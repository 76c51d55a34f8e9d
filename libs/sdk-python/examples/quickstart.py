import os

from strata_sdk import StrataClient

client = StrataClient(os.environ.get("STRATA_API_URL", "http://localhost:3000"), os.environ["STRATA_SDK_KEY"])
client.ready()  # first snapshot (False after the timeout; keeps trying)

user = {"id": "user-42", "country": "DE"}
colour = client.get_string("button-colour", user["id"], "grey", {"country": user["country"]})
limits = client.get_json("rate-limits", user["id"], {"perMinute": 30})
variant = client.get_variant("new-checkout", user["id"], {"country": user["country"]})  # None → default experience
client.track(user["id"], "purchase", 42.5)

print(f"colour={colour} limits={limits['perMinute']} variant={variant}")
client.close()  # flushes queued exposures and events
