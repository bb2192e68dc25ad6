using Catbird.Cloud.Gateway;
using Catbird.Cloud.Gateway.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapPlatformApi();

app.Run();

public partial class Program;
