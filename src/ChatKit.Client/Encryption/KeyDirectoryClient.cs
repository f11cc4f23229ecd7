using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using ChatKit.Protocol;

namespace ChatKit.Client;

/// <summary>The key directory's HTTP endpoints under the server's ChatKit path, with the client's access token.</summary>
internal sealed class KeyDirectoryClient(HttpClient http, Uri baseUri, Func<CancellationToken, ValueTask<string?>>? tokens)
{
    public static Uri BaseOf(Uri webSocketUri)
    {
        var builder = new UriBuilder(webSocketUri)
        {
            Scheme = string.Equals(webSocketUri.Scheme, "wss", StringComparison.OrdinalIgnoreCase) ? "https" : "http",
            Query = string.Empty,
        };
        builder.Path = builder.Path.TrimEnd('/') + "/";
        return builder.Uri;
    }

    public Task<DeviceKeyStatus> PublishAsync(string device, DeviceKeysUpload upload, CancellationToken cancellationToken) =>
        SendAsync<DeviceKeyStatus>(HttpMethod.Put, $"keys/devices/{Uri.EscapeDataString(device)}", upload, cancellationToken);

    public Task<DeviceKeyStatus> AddPreKeysAsync(string device, DeviceKeysUpload upload, CancellationToken cancellationToken) =>
        SendAsync<DeviceKeyStatus>(HttpMethod.Post, $"keys/devices/{Uri.EscapeDataString(device)}/prekeys", upload, cancellationToken);

    public Task<DeviceKeyStatus> GetStatusAsync(string device, CancellationToken cancellationToken) =>
        SendAsync<DeviceKeyStatus>(HttpMethod.Get, $"keys/devices/{Uri.EscapeDataString(device)}", null, cancellationToken);

    public Task<UserDevicesInfo> GetDevicesAsync(string user, CancellationToken cancellationToken) =>
        SendAsync<UserDevicesInfo>(HttpMethod.Get, $"keys/users/{Uri.EscapeDataString(user)}", null, cancellationToken);

    public Task<PreKeyBundleInfo> ClaimBundleAsync(string user, string device, CancellationToken cancellationToken) =>
        SendAsync<PreKeyBundleInfo>(HttpMethod.Post, $"keys/users/{Uri.EscapeDataString(user)}/devices/{Uri.EscapeDataString(device)}/bundle", null, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, DeviceKeysUpload? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(baseUri, path));
        if (tokens is not null && await tokens(cancellationToken).ConfigureAwait(false) is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body, Info<DeviceKeysUpload>());
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new ChatClientException(ChatClientErrorCodes.ConnectionFailed, $"The key directory at {baseUri} did not answer: {ex.Message}", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var error = await ReadAsync<ErrorBody>(response, cancellationToken).ConfigureAwait(false);
                throw new ChatClientException(error?.Code ?? ChatErrorCodes.InternalError, $"The key directory refused {method} {path}: {error?.Message ?? response.ReasonPhrase}");
            }

            return await ReadAsync<T>(response, cancellationToken).ConfigureAwait(false)
                ?? throw new ChatClientException(ChatErrorCodes.InternalError, $"The key directory answered {method} {path} without a body.");
        }
    }

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(Info<T>(), cancellationToken).ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException)
        {
            return default;
        }
    }

    private static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)ProtocolJson.Context.GetTypeInfo(typeof(T))!;
}
