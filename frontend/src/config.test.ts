import { describe, expect, it } from "vitest";

import { apiBaseUrl, cognitoEndpoint, ConfigError, parseConfig } from "./config";

const LOCAL = {
  apiUrl: "http://127.0.0.1:8080",
  region: "us-east-1",
  userPoolId: "us-east-1_abc",
  userPoolClientId: "client",
  cognitoEndpoint: "http://127.0.0.1:4566",
  stage: "dev",
  local: true,
};

describe("config", () => {
  it("uses moto's endpoint locally and the regional Cognito endpoint on AWS", () => {
    expect(cognitoEndpoint(parseConfig(LOCAL))).toBe("http://127.0.0.1:4566/");
    expect(cognitoEndpoint(parseConfig({ ...LOCAL, local: false, region: "eu-west-1" }))).toBe(
      "https://cognito-idp.eu-west-1.amazonaws.com/",
    );
  });

  it("calls the API at apiUrl, or at the dev server's origin (its proxy) during development", () => {
    const config = parseConfig({ ...LOCAL, apiUrl: "https://api.example.com/dev/" });
    expect(apiBaseUrl(config, null)).toBe("https://api.example.com/dev");
    expect(apiBaseUrl(config, "http://127.0.0.1:5173")).toBe("http://127.0.0.1:5173");
  });

  it("names the fields a broken /config.json lacks", () => {
    expect(() => parseConfig({ ...LOCAL, userPoolId: null, stage: "" })).toThrow(new ConfigError("/config.json lacks userPoolId, stage"));
    expect(() => parseConfig([])).toThrow(ConfigError);
  });
});
