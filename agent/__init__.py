"""The phone agent: steps, prompt templates, backends and the PhoneAgent."""
