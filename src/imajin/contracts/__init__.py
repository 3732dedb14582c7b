"""Request and response models shared by server and client; imports nothing of the server."""
