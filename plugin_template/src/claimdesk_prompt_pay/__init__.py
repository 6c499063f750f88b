"""claimdesk-prompt-pay: an example clinic plugin (copy this folder to start your own)."""
