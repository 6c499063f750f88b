"""Built-in claimdesk plugins: each module is registered through the claimdesk entry-point group."""
