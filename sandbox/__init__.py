"""The local sandbox: an AWS emulator (moto, extended), BIND and an SES SMTP stand-in on loopback."""
